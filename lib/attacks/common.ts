/**
 * Shared pieces of the attack simulators: the error type, parameter checks, seeded Gaussian
 * noise and the standard normal distribution that "A little is enough" needs.
 */

import { createRandom } from "../random";

/** Invalid attack input: a parameter out of range, a missing context value, a bad shape. */
export class AttackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AttackError";
  }
}

export function assertFiniteNumber(value: number, argument: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new AttackError(`${argument} must be a finite number, got ${String(value)}`);
  }
}

export function assertNonNegative(value: number, argument: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new AttackError(`${argument} must be a finite number >= 0, got ${String(value)}`);
  }
}

export function assertPositive(value: number, argument: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new AttackError(`${argument} must be a finite number > 0, got ${String(value)}`);
  }
}

export function assertInteger(value: number, argument: string, min: number, max = Infinity): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new AttackError(`${argument} must be an integer ${range}, got ${String(value)}`);
  }
}

export function assertFraction(value: number, argument: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new AttackError(`${argument} must be a number in [0, 1], got ${String(value)}`);
  }
}

export function assertVector(value: Float32Array, argument: string): void {
  if (!(value instanceof Float32Array)) {
    throw new AttackError(`${argument} must be a Float32Array`);
  }
}

/** Throws unless `deltas` contains at least `min` Float32Arrays of one length; returns the length. */
export function assertVectors(
  deltas: readonly Float32Array[],
  argument: string,
  min: number,
): number {
  if (!Array.isArray(deltas) || deltas.length < min) {
    throw new AttackError(
      `${argument} must hold at least ${min} deltas, got ${Array.isArray(deltas) ? deltas.length : "none"}`,
    );
  }
  const length = deltas[0].length;
  deltas.forEach((delta, i) => {
    assertVector(delta, `${argument}[${i}]`);
    if (delta.length !== length) {
      throw new AttackError(`${argument}[${i}] has ${delta.length} values, expected ${length}`);
    }
  });
  return length;
}

/** Returns `values` + N(0, sigma^2) noise per value from the stream seeded by `seed`. */
export function addGaussianNoise(values: Float32Array, sigma: number, seed: number): Float32Array {
  assertVector(values, "values");
  assertNonNegative(sigma, "sigma");
  assertFiniteNumber(seed, "seed");
  const random = createRandom(seed);
  const out = new Float32Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = values[k] + sigma * random.gaussian();
  return out;
}

/**
 * Returns erf(x) from the series erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!,
 * whose terms are all positive, so no cancellation occurs. Accurate to about 1e-15; |x| >= 6 is
 * +-1 in float64.
 */
export function erf(x: number): number {
  assertFiniteNumber(x, "x");
  if (x === 0) return 0;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum);
}

/** Returns the standard normal cumulative distribution function at x. */
export function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

/** Returns z with normalCdf(z) = p, for p in (0, 1), by bisection to 1e-12. */
export function inverseNormalCdf(p: number): number {
  if (typeof p !== "number" || !(p > 0 && p < 1)) {
    throw new AttackError(`p must be a probability in (0, 1), got ${String(p)}`);
  }
  let lo = -9;
  let hi = 9;
  while (hi - lo > 1e-12) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
