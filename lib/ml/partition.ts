/**
 * Seeded partitions of a dataset over federated clients.
 *
 * - partitionIid: a seeded shuffle cut into k parts whose sizes differ by at most one.
 * - partitionDirichlet: label skew as in Hsu, Qi and Brown, "Measuring the Effects of
 *   Non-Identical Data Distribution for Federated Visual Classification" (2019). For each class,
 *   proportions over the k clients are drawn from a symmetric Dirichlet(alpha) and the class's
 *   samples are dealt out in those proportions. A small alpha gives each client few classes, and a
 *   large alpha approaches an IID split.
 *
 * Dirichlet draws normalise k Gamma(alpha, 1) samples. Gamma uses Marsaglia and Tsang's method
 * ("A simple method for generating gamma variables", ACM TOMS 26(3), 2000), with the boost
 * Gamma(a) = Gamma(a + 1) * U^(1/a) for a < 1. The normalisation runs on logarithms, because for
 * alpha around 0.01 every U^(1/a) can underflow to 0 in float64 and the plain ratio would be NaN.
 *
 * Minimum size: a small alpha often leaves a client with no samples at all. Redrawing until every
 * client is large enough may never end for a small alpha and a large k. partitionDirichlet
 * instead moves samples one at a time to each client below `minSamples`, each sample drawn at
 * random from the currently largest client. This always terminates and gives every client at
 * least `minSamples` samples, at the cost of slightly less skew for the smallest clients.
 */

import { createRandom, type Random, shuffleInPlace } from "../random";

/** Samples per client that partitionDirichlet guarantees when options.minSamples is absent. */
export const DEFAULT_MIN_SAMPLES_PER_CLIENT = 10;

/**
 * Returns k disjoint parts of the indices 0 to n - 1 that together cover them all, each part
 * sorted ascending. Part sizes are floor(n / k) or floor(n / k) + 1.
 */
export function partitionIid(n: number, k: number, seed: number): Int32Array[] {
  assertCount(n, "n", 1);
  assertCount(k, "k", 1);
  assertSeed(seed);
  if (k > n) throw new RangeError(`k: ${k} clients need at least ${k} samples, got n = ${n}`);
  const order = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    createRandom(seed),
  );
  const parts: Int32Array[] = [];
  let start = 0;
  for (let j = 0; j < k; j++) {
    const size = Math.floor(n / k) + (j < n % k ? 1 : 0);
    parts.push(Int32Array.from(order.slice(start, start + size)).sort());
    start += size;
  }
  return parts;
}

/**
 * Returns k disjoint parts of the indices of `labels`, covering them all, with Dirichlet(alpha)
 * label skew. Each part is sorted ascending and has at least `minSamples` indices (10 by
 * default), as the module comment explains.
 */
export function partitionDirichlet(
  labels: ArrayLike<number>,
  k: number,
  alpha: number,
  seed: number,
  options: { minSamples?: number } = {},
): Int32Array[] {
  if (labels === null || typeof labels !== "object" || typeof labels.length !== "number") {
    throw new TypeError("labels: expected an array of class indices");
  }
  assertCount(k, "k", 1);
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
    throw new RangeError(`alpha: expected a finite number > 0, got ${String(alpha)}`);
  }
  assertSeed(seed);
  const minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES_PER_CLIENT;
  assertCount(minSamples, "options.minSamples", 0);
  if (labels.length < k * minSamples) {
    throw new RangeError(
      `labels: ${labels.length} samples cannot give ${k} clients ${minSamples} samples each; lower k or options.minSamples`,
    );
  }

  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0) {
      throw new RangeError(`labels[${i}]: expected a class index >= 0, got ${label}`);
    }
    const members = byClass.get(label) ?? [];
    members.push(i);
    byClass.set(label, members);
  }

  const random = createRandom(seed);
  const parts: number[][] = Array.from({ length: k }, () => []);
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace(byClass.get(label) ?? [], random);
    const counts = apportion(sampleDirichlet(alpha, k, random), members.length);
    let start = 0;
    counts.forEach((count, j) => {
      for (let i = start; i < start + count; i++) parts[j].push(members[i]);
      start += count;
    });
  }
  topUpSmallParts(parts, minSamples, random);
  return parts.map((part) => Int32Array.from(part).sort());
}

/** Returns one draw of a symmetric Dirichlet(alpha) over k categories, whose values sum to 1. */
export function sampleDirichlet(alpha: number, k: number, random: Random): Float64Array {
  const logs = Float64Array.from({ length: k }, () => sampleLogGamma(alpha, random));
  let max = Number.NEGATIVE_INFINITY;
  for (const value of logs) max = Math.max(max, value);
  const out = new Float64Array(k);
  let sum = 0;
  for (let j = 0; j < k; j++) {
    out[j] = Math.exp(logs[j] - max);
    sum += out[j];
  }
  for (let j = 0; j < k; j++) out[j] /= sum;
  return out;
}

/** Returns one Gamma(shape, 1) sample (Marsaglia and Tsang). */
export function sampleGamma(shape: number, random: Random): number {
  return Math.exp(sampleLogGamma(shape, random));
}

/** Returns the natural logarithm of one Gamma(shape, 1) sample, finite for every shape > 0. */
function sampleLogGamma(shape: number, random: Random): number {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new RangeError(`shape: expected a finite number > 0, got ${shape}`);
  }
  if (shape < 1) {
    // 1 - next() lies in (0, 1], so the logarithm is finite.
    return sampleLogGamma(shape + 1, random) + Math.log(1 - random.next()) / shape;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = random.gaussian();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return Math.log(d * v);
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

/** Splits `total` into integer counts proportional to `shares` by largest remainder. */
function apportion(shares: Float64Array, total: number): number[] {
  const counts = Array.from(shares, (share) => Math.floor(share * total));
  let left = total - counts.reduce((sum, count) => sum + count, 0);
  const remainder = (j: number) => shares[j] * total - counts[j];
  const byRemainder = counts.map((_, j) => j).sort((a, b) => remainder(b) - remainder(a) || a - b);
  for (let i = 0; left > 0; i = (i + 1) % byRemainder.length, left--) counts[byRemainder[i]]++;
  return counts;
}

/** Moves random samples from the largest part to each part below `minSamples`. */
function topUpSmallParts(parts: number[][], minSamples: number, random: Random): void {
  for (;;) {
    let smallest = 0;
    let largest = 0;
    for (let j = 1; j < parts.length; j++) {
      if (parts[j].length < parts[smallest].length) smallest = j;
      if (parts[j].length > parts[largest].length) largest = j;
    }
    if (parts[smallest].length >= minSamples) return;
    const donor = parts[largest];
    const position = random.int(donor.length);
    parts[smallest].push(donor[position]);
    donor[position] = donor[donor.length - 1];
    donor.pop();
  }
}

function assertCount(value: number, argument: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${argument}: expected an integer >= ${min}, got ${String(value)}`);
  }
}

function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed: expected a safe integer, got ${String(seed)}`);
  }
}
