/**
 * Coordinate-wise order statistics over client deltas: the median and the trimmed mean (Yin et
 * al., 2018), plus the transposed-block copy that Bulyan reuses.
 *
 * Design: the deltas arrive one Float32Array per client, so a coordinate's n values are n arrays
 * apart. Each kernel copies a block of coordinates into a transposed Float32Array buffer
 * (column j contains the n values of coordinate start + j, contiguous), sized to stay in the L2
 * cache, then runs an in-place quickselect on each column. That allocates one buffer per call
 * instead of one array per coordinate, and the selection costs O(n) per coordinate on average
 * where a sort costs O(n log n).
 *
 * Values must be finite: a NaN has no rank. Each block is checked while it is copied and the
 * kernel throws naming the client and coordinate.
 */

import { AggregationError, assertDeltas, throwNonFinite } from "./errors";
import { selectRank } from "./select";

/** Target size of the transposed block, in float32 values (256 KiB). */
const BLOCK_VALUES = 65536;
/** Returns how many coordinates one transposed block holds for `rows` clients. */
export function blockColumns(rows: number, length: number): number {
  return Math.max(1, Math.min(length, 4096, Math.floor(BLOCK_VALUES / rows)));
}

/**
 * Copies coordinates [start, start + columns) of every delta into `block`, column-major: the
 * value of client i at coordinate start + j lands at block[j * rows + i]. `rows` lists the
 * clients to copy, in order. Throws naming the client and coordinate if a value is not finite.
 */
export function transposeBlock(
  deltas: readonly Float32Array[],
  rows: readonly number[] | Int32Array,
  start: number,
  columns: number,
  block: Float32Array,
): void {
  const n = rows.length;
  let nonFinite = 0;
  for (let r = 0; r < n; r++) {
    const delta = deltas[rows[r]];
    let at = r;
    for (let j = 0; j < columns; j++) {
      const value = delta[start + j];
      nonFinite += value * 0;
      block[at] = value;
      at += n;
    }
  }
  // `value * 0` is NaN exactly when value is NaN or infinite.
  if (nonFinite !== 0) throwNonFinite(Array.from(rows, (i) => deltas[i]));
}

/**
 * Returns the coordinate-wise median of `deltas`. For an even count it is the mean of the two
 * middle values. Ties need no rule because equal values are interchangeable.
 */
export function coordinateMedian(deltas: readonly Float32Array[]): Float32Array {
  const length = assertDeltas(deltas);
  const n = deltas.length;
  const rows = identityRows(n);
  const columns = blockColumns(n, length);
  const block = new Float32Array(columns * n);
  const out = new Float32Array(length);
  const upper = n >> 1;
  const even = n % 2 === 0;

  for (let start = 0; start < length; start += columns) {
    const size = Math.min(columns, length - start);
    transposeBlock(deltas, rows, start, size, block);
    for (let j = 0; j < size; j++) {
      const lo = j * n;
      const hi = lo + n - 1;
      selectRank(block, lo, hi, lo + upper);
      let value = block[lo + upper];
      if (even) {
        // After the selection the lower middle value is the maximum of the lower half.
        let lowerMiddle = block[lo];
        for (let i = lo + 1; i < lo + upper; i++) {
          if (block[i] > lowerMiddle) lowerMiddle = block[i];
        }
        value = (lowerMiddle + value) / 2;
      }
      out[start + j] = value;
    }
  }
  return out;
}

/** Returns the number of values trimmed from each end: floor(beta * n). */
export function trimCount(beta: number, n: number): number {
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta < 0 || beta > 0.5) {
    throw new AggregationError(`beta must be a number in [0, 0.5], got ${beta}`);
  }
  const trimmed = Math.floor(beta * n);
  if (2 * trimmed >= n) {
    throw new AggregationError(
      `trimmed mean needs 2 * floor(beta * n) < n, got beta = ${beta}, n = ${n} ` +
        `(floor(beta * n) = ${trimmed}): lower beta or add clients`,
    );
  }
  return trimmed;
}

/**
 * Returns the coordinate-wise trimmed mean of `deltas`: per coordinate, drops the floor(beta * n)
 * smallest and the floor(beta * n) largest values and averages the rest in float64. beta = 0 is
 * the plain mean. Requires 2 * floor(beta * n) < n.
 */
export function trimmedMean(deltas: readonly Float32Array[], beta: number): Float32Array {
  const length = assertDeltas(deltas);
  const n = deltas.length;
  const trimmed = trimCount(beta, n);
  const rows = identityRows(n);
  const columns = blockColumns(n, length);
  const block = new Float32Array(columns * n);
  const out = new Float32Array(length);
  const kept = n - 2 * trimmed;

  for (let start = 0; start < length; start += columns) {
    const size = Math.min(columns, length - start);
    transposeBlock(deltas, rows, start, size, block);
    for (let j = 0; j < size; j++) {
      const lo = j * n;
      const hi = lo + n - 1;
      if (trimmed > 0) {
        // The first selection puts the `trimmed` smallest values before lo + trimmed, the second
        // puts the `trimmed` largest after hi - trimmed, so the kept ranks sit in between.
        selectRank(block, lo, hi, lo + trimmed);
        selectRank(block, lo + trimmed, hi, hi - trimmed);
      }
      let sum = 0;
      for (let i = lo + trimmed; i <= hi - trimmed; i++) sum += block[i];
      out[start + j] = sum / kept;
    }
  }
  return out;
}

function identityRows(n: number): Int32Array {
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}
