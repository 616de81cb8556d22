/**
 * Weighted mean of client deltas: the kernel behind FedAvg (McMahan et al., 2017, weights =
 * sample counts), reputation-weighted FedAvg (weights = influence weights) and Multi-Krum's
 * average.
 *
 * Design: the weights are normalised once, then the deltas are summed block by block of
 * coordinates into a Float64Array accumulator small enough to stay in the L1/L2 cache, four
 * clients per pass over the block. Accumulating in float64 keeps the sum of a thousand float32
 * values free of the drift a float32 running sum would show. Clients are summed in array order,
 * so one input gives one bit-exact output.
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
    const end = Math.min(start + BLOCK, length);
    const size = end - start;
    accumulator.fill(0, 0, size);
    let i = 0;
    // Four clients per pass read and write the accumulator a quarter as often.
    for (; i + 3 < deltas.length; i += 4) {
      const a = deltas[i];
      const b = deltas[i + 1];
      const c = deltas[i + 2];
      const e = deltas[i + 3];
      const wa = normalised[i];
      const wb = normalised[i + 1];
      const wc = normalised[i + 2];
      const we = normalised[i + 3];
      for (let k = 0; k < size; k++) {
        const at = start + k;
        accumulator[k] += wa * a[at] + wb * b[at] + wc * c[at] + we * e[at];
      }
    }
    for (; i < deltas.length; i++) {
      const w = normalised[i];
      const delta = deltas[i];
      for (let k = 0; k < size; k++) accumulator[k] += w * delta[start + k];
    }
    for (let k = 0; k < size; k++) {
      const value = accumulator[k];
      nonFinite += value * 0;
      out[start + k] = value;
    }
  }
  // `value * 0` is 0 for a finite value and NaN for NaN or an infinity, so one sum checks them all.
  if (nonFinite !== 0) throwNonFinite(deltas);
  return out;
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
