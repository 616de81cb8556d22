/**
 * Weighted mean of client deltas: the kernel behind FedAvg (McMahan et al., 2017, weights =
 * sample counts), reputation-weighted FedAvg (weights = influence weights) and Multi-Krum's
 * average.
 *
 * Design: the weights are normalised once, then the deltas are summed block by block of
 * coordinates into a Float64Array accumulator small enough to stay in the L1/L2 cache. Each pass
 * over a block adds four clients, and the last n mod 4 clients join the pass that writes the
 * block out. Accumulating in float64 keeps the sum of a thousand float32 values free of the drift
 * a float32 running sum would show. Clients are summed in array order, so one input gives one
 * bit-exact output.
 */

import { AggregationError, assertDeltas, throwNonFinite } from "./errors";

/** Coordinates per accumulator block: 32 KiB of float64. */
const BLOCK = 4096;

/**
 * Returns the weighted mean of `deltas`, coordinate by coordinate. `weights` must be finite and
 * >= 0 with a positive sum; they are normalised here, so only their ratios matter. A NaN or
 * infinite value makes the call throw, naming the client and coordinate.
 */
export function weightedMean(
  deltas: readonly Float32Array[],
  weights: ArrayLike<number>,
): Float32Array {
  const length = assertDeltas(deltas);
  const normalised = normaliseWeights(weights, deltas.length);

  const out = new Float32Array(length);
  const accumulator = new Float64Array(Math.min(BLOCK, length));
  let nonFinite = 0;
  for (let start = 0; start < length; start += BLOCK) {
    const size = Math.min(BLOCK, length - start);
    let i = 0;
    for (; i + 3 < deltas.length; i += 4) {
      addFourClients(accumulator, size, start, deltas, normalised, i, i > 0);
    }
    if (i === 0) accumulator.fill(0, 0, size);
    nonFinite += finishBlock(out, accumulator, size, start, deltas, normalised, i);
  }
  // `value * 0` is 0 for a finite value and NaN for NaN or an infinity, so one sum checks them all.
  if (nonFinite !== 0) throwNonFinite(deltas);
  return out;
}

/**
 * Adds clients first..first+3, weighted, to accumulator[0, size), or overwrites it when `add` is
 * false (the block's first pass). Four clients per pass read and write the accumulator a quarter
 * as often as one client per pass would.
 */
function addFourClients(
  accumulator: Float64Array,
  size: number,
  start: number,
  deltas: readonly Float32Array[],
  weights: Float64Array,
  first: number,
  add: boolean,
): void {
  const a = deltas[first];
  const b = deltas[first + 1];
  const c = deltas[first + 2];
  const e = deltas[first + 3];
  const wa = weights[first];
  const wb = weights[first + 1];
  const wc = weights[first + 2];
  const we = weights[first + 3];
  if (add) {
    for (let k = 0; k < size; k++) {
      const at = start + k;
      accumulator[k] += wa * a[at] + wb * b[at] + wc * c[at] + we * e[at];
    }
  } else {
    for (let k = 0; k < size; k++) {
      const at = start + k;
      accumulator[k] = wa * a[at] + wb * b[at] + wc * c[at] + we * e[at];
    }
  }
}

/**
 * Adds the last n mod 4 clients (from `first` on) to the accumulator while writing the block to
 * `out`, so the remainder costs no extra pass. Returns the sum of value * 0 over the block, which
 * is 0 unless a value is NaN or infinite.
 */
function finishBlock(
  out: Float32Array,
  accumulator: Float64Array,
  size: number,
  start: number,
  deltas: readonly Float32Array[],
  weights: Float64Array,
  first: number,
): number {
  const left = deltas.length - first;
  let nonFinite = 0;
  if (left === 0) {
    for (let k = 0; k < size; k++) {
      const value = accumulator[k];
      nonFinite += value * 0;
      out[start + k] = value;
    }
  } else if (left === 1) {
    const a = deltas[first];
    const wa = weights[first];
    for (let k = 0; k < size; k++) {
      const value = accumulator[k] + wa * a[start + k];
      nonFinite += value * 0;
      out[start + k] = value;
    }
  } else if (left === 2) {
    const a = deltas[first];
    const b = deltas[first + 1];
    const wa = weights[first];
    const wb = weights[first + 1];
    for (let k = 0; k < size; k++) {
      const at = start + k;
      const value = accumulator[k] + wa * a[at] + wb * b[at];
      nonFinite += value * 0;
      out[at] = value;
    }
  } else {
    const a = deltas[first];
    const b = deltas[first + 1];
    const c = deltas[first + 2];
    const wa = weights[first];
    const wb = weights[first + 1];
    const wc = weights[first + 2];
    for (let k = 0; k < size; k++) {
      const at = start + k;
      const value = accumulator[k] + wa * a[at] + wb * b[at] + wc * c[at];
      nonFinite += value * 0;
      out[at] = value;
    }
  }
  return nonFinite;
}

/** Returns the unweighted mean of `deltas`, coordinate by coordinate. */
export function mean(deltas: readonly Float32Array[]): Float32Array {
  assertDeltas(deltas);
  return weightedMean(deltas, new Float64Array(deltas.length).fill(1));
}

/**
 * Returns `weights` divided by their sum. Throws when a weight is negative or not finite, when
 * the count differs from `count`, or when the sum is 0, since a mean with no weight is undefined.
 */
export function normaliseWeights(weights: ArrayLike<number>, count: number): Float64Array {
  if (weights == null || weights.length !== count) {
    throw new AggregationError(
      `weights must have one entry per delta (${count}), got ${weights == null ? weights : weights.length}`,
    );
  }
  let total = 0;
  for (let i = 0; i < count; i++) {
    const w = weights[i];
    if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
      throw new AggregationError(`weights[${i}] must be a finite number >= 0, got ${w}`);
    }
    total += w;
  }
  if (!Number.isFinite(total)) {
    throw new AggregationError(`weights sum to ${total}, expected a finite total`);
  }
  if (total === 0) {
    throw new AggregationError(
      `weights sum to 0 over ${count} clients, expected a positive total: give at least one client a weight > 0`,
    );
  }
  const normalised = new Float64Array(count);
  for (let i = 0; i < count; i++) normalised[i] = weights[i] / total;
  return normalised;
}
