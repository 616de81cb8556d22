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
 *   It needs n >= 4f + 3. Late in the selection loop, r - f - 2 can drop below 1 (r = deltas
 *   not yet selected), and the score then uses the single nearest neighbour.
 */

import { AggregationError, assertDeltas, assertInteger, throwNonFinite } from "./errors";
import { mean } from "./mean";
import { blockColumns, transposeBlock } from "./order-statistics";
import { selectRank, selectRank64 } from "./select";

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
      let j = i + 1;
      for (; j + 3 < n; j += 4) addFourDistances(distances, i * n + j, a, deltas, j, start, end);
      for (; j < n; j++) distances[i * n + j] += squaredDistance(a, deltas[j], start, end);
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

/**
 * Adds the squared distances over [start, end) from `a` to deltas[j..j+3] into
 * distances[at..at+3]. The four pairs share each read of a[k], and their four sums are
 * independent, so the additions overlap instead of waiting on one another.
 */
function addFourDistances(
  distances: Float64Array,
  at: number,
  a: Float32Array,
  deltas: readonly Float32Array[],
  j: number,
  start: number,
  end: number,
): void {
  const b0 = deltas[j];
  const b1 = deltas[j + 1];
  const b2 = deltas[j + 2];
  const b3 = deltas[j + 3];
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let k = start; k < end; k++) {
    const x = a[k];
    const d0 = x - b0[k];
    const d1 = x - b1[k];
    const d2 = x - b2[k];
    const d3 = x - b3[k];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  distances[at] += s0;
  distances[at + 1] += s1;
  distances[at + 2] += s2;
  distances[at + 3] += s3;
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
    selectRank64(row, 0, row.length - 1, neighbours - 1);
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

  const selected = bulyanSelection(matrix, n, f, theta);

  // Sorting keeps the selected clients in input order inside each column, so the result does
  // not depend on the order in which the Krum loop picked them.
  const rows = Int32Array.from(selected).sort();
  const columns = blockColumns(theta, length);
  const block = new Float32Array(columns * theta);
  const scratch = new Float64Array(theta);
  const out = new Float32Array(length);
  for (let start = 0; start < length; start += columns) {
    const size = Math.min(columns, length - start);
    transposeBlock(deltas, rows, start, size, block);
    for (let j = 0; j < size; j++) {
      out[start + j] = meanClosestToMedian(block, j * theta, theta, beta, scratch);
    }
  }
  return { delta: out, selected };
}

/**
 * Runs Bulyan's Krum loop: picks `theta` clients one by one, each time the one with the lowest
 * Krum score among those left (ties to the lower index). Each row of the distance matrix is
 * sorted once, so a score is a prefix sum over the row that skips picked clients, instead of a
 * new selection per round of the loop. Cost O(n^2 log n + theta n^2).
 */
function bulyanSelection(distances: Float64Array, n: number, f: number, theta: number): number[] {
  // neighbourOrder[i * (n - 1) + r] is the r-th nearest other client of i (ties to lower index).
  const width = n - 1;
  const neighbourOrder = new Int32Array(n * width);
  const neighbourDistance = new Float64Array(n * width);
  const others: number[] = [];
  for (let i = 0; i < n; i++) {
    others.length = 0;
    for (let j = 0; j < n; j++) if (j !== i) others.push(j);
    const row = i * n;
    others.sort((a, b) => distances[row + a] - distances[row + b] || a - b);
    for (let r = 0; r < width; r++) {
      neighbourOrder[i * width + r] = others[r];
      neighbourDistance[i * width + r] = distances[row + others[r]];
    }
  }

  const picked = new Uint8Array(n);
  const selected: number[] = [];
  for (let left = n; selected.length < theta; left--) {
    const neighbours = Math.min(Math.max(1, left - f - 2), left - 1);
    let best = -1;
    let bestScore = Infinity;
    for (let i = 0; i < n; i++) {
      if (picked[i]) continue;
      let score = 0;
      let counted = 0;
      for (let r = i * width; counted < neighbours; r++) {
        if (picked[neighbourOrder[r]]) continue;
        score += neighbourDistance[r];
        counted++;
      }
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    }
    picked[best] = 1;
    selected.push(best);
  }
  return selected;
}

/**
 * Returns the mean of the `closest` values of block[lo, lo + count) nearest to their median.
 * Among values equally far from the median the smaller is taken first, so the chosen set is the
 * first `closest` values in (distance, value) order. Reorders the block range and uses
 * `distances` (at least `count` long) as scratch space. Cost O(count) on average.
 */
function meanClosestToMedian(
  block: Float32Array,
  lo: number,
  count: number,
  closest: number,
  distances: Float64Array,
): number {
  const hi = lo + count - 1;
  const upper = lo + (count >> 1);
  selectRank(block, lo, hi, upper);
  let median = block[upper];
  if (count % 2 === 0) {
    // After the selection the lower middle value is the maximum of the lower half.
    let lowerMiddle = block[lo];
    for (let i = lo + 1; i < upper; i++) if (block[i] > lowerMiddle) lowerMiddle = block[i];
    median = (lowerMiddle + median) / 2;
  }

  for (let i = 0; i < count; i++) distances[i] = Math.abs(block[lo + i] - median);
  selectRank64(distances, 0, count - 1, closest - 1);
  const cutoff = distances[closest - 1];

  // Take every value nearer than the cutoff, then fill up with the values at exactly the
  // cutoff, the one below the median first.
  let sum = 0;
  let taken = 0;
  let belowCount = 0;
  let belowValue = 0;
  let aboveValue = 0;
  for (let i = lo; i <= hi; i++) {
    const value = block[i];
    const distance = Math.abs(value - median);
    if (distance < cutoff) {
      sum += value;
      taken++;
    } else if (distance === cutoff) {
      if (value <= median) {
        belowCount++;
        belowValue = value;
      } else {
        aboveValue = value;
      }
    }
  }
  const fromBelow = Math.min(closest - taken, belowCount);
  sum += fromBelow * belowValue + (closest - taken - fromBelow) * aboveValue;
  return sum / closest;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
