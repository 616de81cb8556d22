/**
 * Distance-based Byzantine-robust rules: Krum and Multi-Krum (Blanchard et al., "Machine
 * Learning with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017) and Bulyan
 * (El Mhamdi et al., "The Hidden Vulnerability of Distributed Learning in Byzantium", ICML 2018).
 *
 * Design decisions:
 * - The n x n squared Euclidean distances are computed once, in float64, directly from the
 *   differences (not as |a|^2 + |b|^2 - 2ab, which cancels badly for near-identical Sybil
 *   updates). Multi-Krum reuses Krum's scores and Bulyan's selection loop reuses the matrix, so
 *   the O(n^2 d) pass happens once per round.
 * - Krum's score of client i is the sum of its squared distances to its n - f - 2 nearest other
 *   clients; Krum needs n > 2f + 2 so that this count is at least 1.
 * - Ties in a score go to the lower index, that is, to the earlier delta in the input order.
 * - Bulyan selects theta = n - 2f deltas by running Krum repeatedly on the ones left, then takes,
 *   per coordinate, the mean of the beta = theta - 2f selected values closest to their median.
 *   It needs n >= 4f + 3. Late in the selection loop fewer than r - f - 2 >= 1 neighbours can be
 *   left (r = deltas still unselected); the score then uses the single nearest neighbour.
 */

import { AggregationError, assertDeltas, assertInteger, throwNonFinite } from "./errors";
import { mean } from "./mean";
import { blockColumns, selectInPlace, transposeBlock } from "./order-statistics";

/** Coordinates per distance chunk: 8 KiB of float32 per client. */
const CHUNK = 2048;

/**
 * Returns the n x n matrix of squared Euclidean distances between deltas, row-major, symmetric,
 * with a zero diagonal. Cost: n (n - 1) / 2 passes over d coordinates.
 */
export function pairwiseSquaredDistances(deltas: readonly Float32Array[]): Float64Array {
  const length = assertDeltas(deltas);
  const n = deltas.length;
  const distances = new Float64Array(n * n);
  for (let start = 0; start < length; start += CHUNK) {
    const end = Math.min(start + CHUNK, length);
    for (let i = 0; i < n; i++) {
      const a = deltas[i];
      for (let j = i + 1; j < n; j++) {
        distances[i * n + j] += squaredDistance(a, deltas[j], start, end);
      }
    }
  }
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const value = distances[i * n + j];
      nonFinite += value * 0;
      distances[j * n + i] = value;
    }
  }
  // A NaN or infinite input value makes every distance to its client NaN or infinite.
  if (nonFinite !== 0) throwNonFinite(deltas);
  return distances;
}

function squaredDistance(a: Float32Array, b: Float32Array, start: number, end: number): number {
  // Four partial sums let the additions overlap instead of waiting on one another.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = start;
  for (; k + 3 < end; k += 4) {
    const d0 = a[k] - b[k];
    const d1 = a[k + 1] - b[k + 1];
    const d2 = a[k + 2] - b[k + 2];
    const d3 = a[k + 3] - b[k + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; k < end; k++) {
    const d = a[k] - b[k];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Throws unless Krum's bound n > 2f + 2 holds. */
export function assertKrumBound(n: number, f: number): void {
  assertInteger(f, "f", 0);
  if (!(n > 2 * f + 2)) {
    throw new AggregationError(
      `Krum needs n > 2f + 2, got n = ${n}, f = ${f}: with f = ${f} at least ${2 * f + 3} clients ` +
        `are needed, or lower f to at most ${Math.max(0, Math.floor((n - 3) / 2))}`,
    );
  }
}

/** Throws unless Bulyan's bound n >= 4f + 3 holds. */
export function assertBulyanBound(n: number, f: number): void {
  assertInteger(f, "f", 0);
  if (!(n >= 4 * f + 3)) {
    throw new AggregationError(
      `Bulyan needs n >= 4f + 3, got n = ${n}, f = ${f}: with f = ${f} at least ${4 * f + 3} ` +
        `clients are needed, or lower f to at most ${Math.max(0, Math.floor((n - 3) / 4))}`,
    );
  }
}

/**
 * Returns the Krum score of each candidate: the sum of its squared distances to its `neighbours`
 * nearest other candidates. `candidates` are indices into the n x n `distances` matrix.
 */
export function krumScores(
  distances: Float64Array,
  n: number,
  candidates: readonly number[],
  neighbours: number,
): Float64Array {
  assertInteger(n, "n", 1);
  if (!(distances instanceof Float64Array) || distances.length !== n * n) {
    throw new AggregationError(`distances must be a Float64Array of n * n = ${n * n} values`);
  }
  assertInteger(neighbours, "neighbours", 1, candidates.length - 1);
  const scores = new Float64Array(candidates.length);
  const row = new Float64Array(candidates.length - 1);
  for (let c = 0; c < candidates.length; c++) {
    const i = candidates[c];
    let at = 0;
    for (let o = 0; o < candidates.length; o++) {
      if (o !== c) row[at++] = distances[i * n + candidates[o]];
    }
    selectInPlace(row, 0, row.length - 1, neighbours - 1);
    let score = 0;
    for (let k = 0; k < neighbours; k++) score += row[k];
    scores[c] = score;
  }
  return scores;
}

export interface KrumResult {
  /** The aggregated delta. */
  delta: Float32Array;
  /** Indices of the selected deltas, in the order they were selected. */
  selected: number[];
  /** Krum score of every delta over the whole round (lower is more central). */
  scores: Float64Array;
}

/**
 * Krum: returns the delta with the lowest Krum score, with f the number of Byzantine clients
 * tolerated. Needs n > 2f + 2. Pass `distances` from pairwiseSquaredDistances to reuse them.
 */
export function krum(
  deltas: readonly Float32Array[],
  f: number,
  distances?: Float64Array,
): KrumResult {
  return multiKrum(deltas, f, 1, distances);
}

/**
 * Multi-Krum: returns the unweighted mean of the m deltas with the lowest Krum scores. m = 1 is
 * Krum. Needs n > 2f + 2 and 1 <= m <= n - f.
 */
export function multiKrum(
  deltas: readonly Float32Array[],
  f: number,
  m: number,
  distances?: Float64Array,
): KrumResult {
  assertDeltas(deltas);
  const n = deltas.length;
  assertKrumBound(n, f);
  assertInteger(m, "m", 1, n - f);
  const matrix = distances ?? pairwiseSquaredDistances(deltas);
  const scores = krumScores(matrix, n, range(n), n - f - 2);
  const selected = lowestScores(scores, m);
  const delta = m === 1 ? deltas[selected[0]].slice() : mean(selected.map((i) => deltas[i]));
  return { delta, selected, scores };
}

/** Returns the indices of the m lowest scores, lowest first, ties to the lower index. */
function lowestScores(scores: Float64Array, m: number): number[] {
  const order = range(scores.length);
  order.sort((a, b) => scores[a] - scores[b] || a - b);
  return order.slice(0, m);
}

export interface BulyanResult {
  /** The aggregated delta. */
  delta: Float32Array;
  /** Indices of the theta = n - 2f deltas chosen by the Krum loop, in selection order. */
  selected: number[];
}

/**
 * Bulyan: selects theta = n - 2f deltas by repeated Krum, then averages per coordinate the
 * beta = theta - 2f selected values closest to the median of the selected values. When two
 * candidate values are equally close, the smaller one is taken. Needs n >= 4f + 3.
 */
export function bulyan(
  deltas: readonly Float32Array[],
  f: number,
  distances?: Float64Array,
): BulyanResult {
  const length = assertDeltas(deltas);
  const n = deltas.length;
  assertBulyanBound(n, f);
  const matrix = distances ?? pairwiseSquaredDistances(deltas);
  const theta = n - 2 * f;
  const beta = theta - 2 * f;

  const remaining = range(n);
  const selected: number[] = [];
  while (selected.length < theta) {
    if (remaining.length === 1) {
      selected.push(remaining[0]);
      break;
    }
    const neighbours = Math.min(Math.max(1, remaining.length - f - 2), remaining.length - 1);
    const scores = krumScores(matrix, n, remaining, neighbours);
    let best = 0;
    for (let c = 1; c < remaining.length; c++) {
      if (scores[c] < scores[best]) best = c;
    }
    selected.push(remaining[best]);
    remaining.splice(best, 1);
  }

  // Sorting keeps the selected clients in input order inside each column, so the result does
  // not depend on the order in which the Krum loop picked them.
  const rows = Int32Array.from(selected).sort();
  const columns = blockColumns(theta, length);
  const block = new Float32Array(columns * theta);
  const out = new Float32Array(length);
  for (let start = 0; start < length; start += columns) {
    const size = Math.min(columns, length - start);
    transposeBlock(deltas, rows, start, size, block);
    for (let j = 0; j < size; j++) {
      out[start + j] = meanClosestToMedian(block, j * theta, theta, beta);
    }
  }
  return { delta: out, selected };
}

/** Sorts block[lo, lo + count) and returns the mean of the `closest` values nearest its median. */
function meanClosestToMedian(
  block: Float32Array,
  lo: number,
  count: number,
  closest: number,
): number {
  if (count <= 16) {
    for (let i = lo + 1; i < lo + count; i++) {
      const value = block[i];
      let j = i - 1;
      while (j >= lo && block[j] > value) {
        block[j + 1] = block[j];
        j--;
      }
      block[j + 1] = value;
    }
  } else {
    block.subarray(lo, lo + count).sort();
  }
  const upper = lo + (count >> 1);
  const median = count % 2 === 1 ? block[upper] : (block[upper - 1] + block[upper]) / 2;
  // Values left of `upper` are <= median and values from `upper` on are >= median, so growing a
  // window outwards from `upper` one value at a time picks the values closest to the median.
  let left = upper;
  let right = upper;
  let sum = 0;
  for (let taken = 0; taken < closest; taken++) {
    const canLeft = left > lo;
    const canRight = right < lo + count;
    if (canLeft && (!canRight || median - block[left - 1] <= block[right] - median)) {
      left--;
      sum += block[left];
    } else {
      sum += block[right];
      right++;
    }
  }
  return sum / closest;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
