/**
 * In-place selection (quickselect) of the k-th smallest value, the core of the median, the
 * trimmed mean, Krum's scores and Bulyan.
 *
 * The Float32Array and Float64Array versions are two copies of one algorithm on purpose. V8
 * compiles a function for the element types it has seen. With one function fed both types,
 * Bulyan's step for n = 100, d = 200k took about 880 ms; with two single-type functions it took
 * about 600 ms (Node 20.20, this project's 2-core development machine). A change to one copy
 * must be made to the other.
 */

import { AggregationError } from "./errors";

/** Ranges at most this long are finished by insertion sort. */
const INSERTION_SORT_MAX = 16;

/**
 * Partially sorts `values[lo..hi]` (inclusive) in place so that `values[k]` holds the value of
 * rank k - lo, every value before it is <= and every value after it is >= (quickselect with a
 * median-of-three pivot). Expected cost O(hi - lo), also when many values are equal.
 */
export function selectInPlace(
  values: Float32Array | Float64Array,
  lo: number,
  hi: number,
  k: number,
): void {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi >= values.length || lo > hi) {
    throw new AggregationError(
      `range [${lo}, ${hi}] must be integers with 0 <= lo <= hi < ${values.length}`,
    );
  }
  if (!Number.isInteger(k) || k < lo || k > hi) {
    throw new AggregationError(`k must be an integer in [${lo}, ${hi}], got ${k}`);
  }
  if (values instanceof Float64Array) selectRank64(values, lo, hi, k);
  else selectRank(values, lo, hi, k);
}

/** selectInPlace for a Float32Array, without the argument checks, for per-coordinate kernels. */
export function selectRank(values: Float32Array, lo: number, hi: number, k: number): void {
  let left = lo;
  let right = hi;
  while (right - left > INSERTION_SORT_MAX) {
    // Median of three: order values[left], values[mid], values[right], then move the median to
    // `right` as the pivot.
    const mid = (left + right) >>> 1;
    if (values[mid] < values[left]) swap(values, mid, left);
    if (values[right] < values[left]) swap(values, right, left);
    if (values[right] < values[mid]) swap(values, right, mid);
    swap(values, mid, right);
    const pivot = values[right];

    // Lomuto partition without a data-dependent branch: every value is swapped to `store`, and
    // `store` advances only past values below the pivot. On random floats a branch here is
    // mispredicted half the time, which costs more than the extra writes.
    let store = left;
    for (let i = left; i < right; i++) {
      const value = values[i];
      values[i] = values[store];
      values[store] = value;
      store += +(value < pivot);
    }
    swap(values, store, right);
    // Now values[left..store-1] < pivot = values[store] <= values[store+1..right].
    if (k === store) return;
    if (k < store) {
      right = store - 1;
      continue;
    }
    const unbalanced = (store - left) * 8 < right - left;
    left = store + 1;
    if (unbalanced) {
      // Values equal to the pivot all land on the right, so a column of ties would shrink by one
      // value per pass. Gathering them next to the pivot keeps such columns linear.
      let equal = left;
      for (let i = left; i <= right; i++) {
        const value = values[i];
        values[i] = values[equal];
        values[equal] = value;
        equal += +(value <= pivot);
      }
      if (k < equal) return;
      left = equal;
    }
  }
  insertionSort(values, left, right);
}

function insertionSort(values: Float32Array, lo: number, hi: number): void {
  for (let i = lo + 1; i <= hi; i++) {
    const value = values[i];
    let j = i - 1;
    while (j >= lo && values[j] > value) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = value;
  }
}

function swap(values: Float32Array, i: number, j: number): void {
  const tmp = values[i];
  values[i] = values[j];
  values[j] = tmp;
}

/** selectRank for a Float64Array: the same algorithm, line for line. */
export function selectRank64(values: Float64Array, lo: number, hi: number, k: number): void {
  let left = lo;
  let right = hi;
  while (right - left > INSERTION_SORT_MAX) {
    // Median of three: order values[left], values[mid], values[right], then move the median to
    // `right` as the pivot.
    const mid = (left + right) >>> 1;
    if (values[mid] < values[left]) swap64(values, mid, left);
    if (values[right] < values[left]) swap64(values, right, left);
    if (values[right] < values[mid]) swap64(values, right, mid);
    swap64(values, mid, right);
    const pivot = values[right];

    // Lomuto partition without a data-dependent branch: every value is swapped to `store`, and
    // `store` advances only past values below the pivot. On random floats a branch here is
    // mispredicted half the time, which costs more than the extra writes.
    let store = left;
    for (let i = left; i < right; i++) {
      const value = values[i];
      values[i] = values[store];
      values[store] = value;
      store += +(value < pivot);
    }
    swap64(values, store, right);
    // Now values[left..store-1] < pivot = values[store] <= values[store+1..right].
    if (k === store) return;
    if (k < store) {
      right = store - 1;
      continue;
    }
    const unbalanced = (store - left) * 8 < right - left;
    left = store + 1;
    if (unbalanced) {
      // Values equal to the pivot all land on the right, so a column of ties would shrink by one
      // value per pass. Gathering them next to the pivot keeps such columns linear.
      let equal = left;
      for (let i = left; i <= right; i++) {
        const value = values[i];
        values[i] = values[equal];
        values[equal] = value;
        equal += +(value <= pivot);
      }
      if (k < equal) return;
      left = equal;
    }
  }
  insertionSort64(values, left, right);
}

function insertionSort64(values: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i <= hi; i++) {
    const value = values[i];
    let j = i - 1;
    while (j >= lo && values[j] > value) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = value;
  }
}

function swap64(values: Float64Array, i: number, j: number): void {
  const tmp = values[i];
  values[i] = values[j];
  values[j] = tmp;
}
