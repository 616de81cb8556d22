/**
 * Model-update poisoning attacks, for simulation and for evaluating the aggregation rules.
 *
 * Every attack works on flat deltas (trained weights - global weights, one Float32Array per
 * client) and returns a new Float32Array; inputs are never modified. Attacks that draw random
 * numbers take a seed and give the same output for the same seed. Statistics over the honest
 * deltas (mean, standard deviation, distances) are accumulated in float64, and the standard
 * deviation is the population one (divided by the number of honest deltas).
 *
 * Sources:
 * - "A little is enough": Baruch, Baruch and Goldberg, NeurIPS 2019.
 * - Inner-product manipulation: Xie, Koyejo and Gupta, "Fall of Empires", UAI 2020.
 * - Min-max and min-sum: Shejwalkar and Houmansadr, "Manipulating the Byzantine", NDSS 2021.
 * - Model replacement: Bagdasaryan et al., "How To Backdoor Federated Learning", AISTATS 2020.
 */

import { pairwiseSquaredDistances } from "../aggregation/krum";
import {
  AttackError,
  addGaussianNoise,
  assertFiniteNumber,
  assertInteger,
  assertNonNegative,
  assertPositive,
  assertVector,
  assertVectors,
  inverseNormalCdf,
} from "./common";

/** Returns -scale * delta: the update pushes the model the opposite way. */
export function signFlip(delta: Float32Array, scale = 1): Float32Array {
  assertVector(delta, "delta");
  assertPositive(scale, "scale");
  return scaleDelta(delta, -scale);
}

/** Returns lambda * delta, which multiplies the delta's norm by |lambda|. */
export function scaleDelta(delta: Float32Array, lambda: number): Float32Array {
  assertVector(delta, "delta");
  assertFiniteNumber(lambda, "lambda");
  const out = new Float32Array(delta.length);
  for (let k = 0; k < delta.length; k++) out[k] = lambda * delta[k];
  return out;
}

/**
 * Returns delta + N(0, sigma^2) per coordinate, or only the noise when `replace` is true (the
 * Gaussian attack that submits noise instead of training).
 */
export function gaussianNoise(
  delta: Float32Array,
  sigma: number,
  seed: number,
  replace = false,
): Float32Array {
  assertVector(delta, "delta");
  return addGaussianNoise(replace ? new Float32Array(delta.length) : delta, sigma, seed);
}

/** Returns the per-coordinate mean and population standard deviation of `deltas`. */
export function coordinateMoments(deltas: readonly Float32Array[]): {
  mean: Float64Array;
  std: Float64Array;
} {
  const length = assertVectors(deltas, "deltas", 1);
  const mean = new Float64Array(length);
  for (const delta of deltas) for (let k = 0; k < length; k++) mean[k] += delta[k];
  for (let k = 0; k < length; k++) mean[k] /= deltas.length;
  const std = new Float64Array(length);
  for (const delta of deltas) {
    for (let k = 0; k < length; k++) {
      const d = delta[k] - mean[k];
      std[k] += d * d;
    }
  }
  for (let k = 0; k < length; k++) std[k] = Math.sqrt(std[k] / deltas.length);
  return { mean, std };
}

/**
 * Returns the z of "A little is enough" for n clients of which f are malicious: with
 * s = floor(n / 2 + 1) - f honest clients that the attackers must win over, z is the largest
 * value with Phi(z) < (n - s) / n. Needs 1 <= s < n.
 */
export function alieZ(numClients: number, numMalicious: number): number {
  assertInteger(numClients, "numClients", 2);
  assertInteger(numMalicious, "numMalicious", 1, numClients - 1);
  const supporters = Math.floor(numClients / 2 + 1) - numMalicious;
  if (supporters < 1) {
    throw new AttackError(
      `"A little is enough" needs floor(n / 2 + 1) - f >= 1, got n = ${numClients}, ` +
        `f = ${numMalicious}: the attackers already hold a majority, no z is defined`,
    );
  }
  return inverseNormalCdf((numClients - supporters) / numClients);
}

/**
 * "A little is enough": returns mean - z * std of the honest deltas per coordinate, a delta
 * that stays within z standard deviations of the honest mean everywhere. Pass `z`, or
 * `numClients` and `numMalicious` to compute it with alieZ.
 */
export function aLittleIsEnough(
  honestDeltas: readonly Float32Array[],
  options: { z?: number; numClients?: number; numMalicious?: number },
): { delta: Float32Array; z: number } {
  assertVectors(honestDeltas, "honestDeltas", 2);
  let z = options.z;
  if (z === undefined) {
    if (options.numClients === undefined || options.numMalicious === undefined) {
      throw new AttackError(
        '"A little is enough" needs z, or numClients and numMalicious to compute it',
      );
    }
    z = alieZ(options.numClients, options.numMalicious);
  }
  assertNonNegative(z, "z");
  const { mean, std } = coordinateMoments(honestDeltas);
  const delta = new Float32Array(mean.length);
  for (let k = 0; k < delta.length; k++) delta[k] = mean[k] - z * std[k];
  return { delta, z };
}

/**
 * Inner-product manipulation: returns -epsilon * mean of the honest deltas, whose inner product
 * with the honest mean is negative for any epsilon > 0 and a non-zero mean.
 */
export function innerProductManipulation(
  honestDeltas: readonly Float32Array[],
  epsilon: number,
): Float32Array {
  assertVectors(honestDeltas, "honestDeltas", 1);
  assertPositive(epsilon, "epsilon");
  const { mean } = coordinateMoments(honestDeltas);
  const delta = new Float32Array(mean.length);
  for (let k = 0; k < delta.length; k++) delta[k] = -epsilon * mean[k];
  return delta;
}

/** Perturbation direction of min-max and min-sum. */
export type PerturbationDirection = "unit" | "std" | "sign";

export interface OptimizedAttackOptions {
  /**
   * "unit": -mean / |mean|, the inverse unit vector; "std": -std, the inverse standard
   * deviation; "sign": -sign(mean), the inverse sign.
   */
  direction?: PerturbationDirection;
  /** First gamma tried; doubled until the bound is exceeded. */
  gammaInit?: number;
  /** The search stops when the feasible and infeasible gammas are closer than this. */
  tolerance?: number;
}

export interface OptimizedAttackResult {
  delta: Float32Array;
  /** The largest gamma found that keeps the bound. */
  gamma: number;
  /** The bound: the honest max (min-max) or max sum (min-sum) of squared distances. */
  threshold: number;
  /** The malicious delta's max (min-max) or sum (min-sum) of squared distances. */
  distance: number;
}

/**
 * Min-max: returns mean + gamma * p with the largest gamma (binary search) such that the
 * maximum squared distance from the result to any honest delta is at most the maximum squared
 * distance between two honest deltas.
 */
export function minMax(
  honestDeltas: readonly Float32Array[],
  options: OptimizedAttackOptions = {},
): OptimizedAttackResult {
  return optimizedAttack(honestDeltas, options, "max");
}

/**
 * Min-sum: returns mean + gamma * p with the largest gamma (binary search) that keeps the sum of
 * squared distances from the result to the honest deltas within a bound. The bound is the
 * largest sum of squared distances from one honest delta to the others.
 */
export function minSum(
  honestDeltas: readonly Float32Array[],
  options: OptimizedAttackOptions = {},
): OptimizedAttackResult {
  return optimizedAttack(honestDeltas, options, "sum");
}

function optimizedAttack(
  honestDeltas: readonly Float32Array[],
  options: OptimizedAttackOptions,
  objective: "max" | "sum",
): OptimizedAttackResult {
  const length = assertVectors(honestDeltas, "honestDeltas", 2);
  const direction = options.direction ?? "std";
  const gammaInit = options.gammaInit ?? 10;
  const tolerance = options.tolerance ?? 1e-5;
  if (direction !== "unit" && direction !== "std" && direction !== "sign") {
    throw new AttackError(`direction must be "unit", "std" or "sign", got ${String(direction)}`);
  }
  assertPositive(gammaInit, "gammaInit");
  assertPositive(tolerance, "tolerance");

  const k = honestDeltas.length;
  const { mean, std } = coordinateMoments(honestDeltas);
  const perturbation = perturbationOf(direction, mean, std);

  // |mean + g p - x_i|^2 = a_i + 2 g b_i + g^2 c, with a_i = |mean - x_i|^2,
  // b_i = p . (mean - x_i) and c = |p|^2, so each gamma costs O(k) to check.
  const a = new Float64Array(k);
  const b = new Float64Array(k);
  let c = 0;
  for (let j = 0; j < length; j++) c += perturbation[j] * perturbation[j];
  if (c === 0) {
    throw new AttackError(
      `the "${direction}" perturbation is zero for these honest deltas, so gamma has no effect`,
    );
  }
  honestDeltas.forEach((delta, i) => {
    let ai = 0;
    let bi = 0;
    for (let j = 0; j < length; j++) {
      const d = mean[j] - delta[j];
      ai += d * d;
      bi += perturbation[j] * d;
    }
    a[i] = ai;
    b[i] = bi;
  });

  const distances = pairwiseSquaredDistances(honestDeltas as Float32Array[]);
  let threshold = 0;
  for (let i = 0; i < k; i++) {
    let rowSum = 0;
    for (let j = 0; j < k; j++) {
      const value = distances[i * k + j];
      rowSum += value;
      if (objective === "max") threshold = Math.max(threshold, value);
    }
    if (objective === "sum") threshold = Math.max(threshold, rowSum);
  }

  const distanceAt = (gamma: number): number => {
    let result = 0;
    for (let i = 0; i < k; i++) {
      const value = a[i] + 2 * gamma * b[i] + gamma * gamma * c;
      result = objective === "max" ? Math.max(result, value) : result + value;
    }
    return result;
  };

  // gamma = 0 (the mean) always keeps the bound, and the distance is a convex quadratic in
  // gamma, so the feasible gammas >= 0 form one interval [0, gamma*] and bisection finds gamma*.
  let feasible = 0;
  let infeasible = gammaInit;
  // c > 0 makes the distance grow without bound, so the doubling ends; the cap guards overflow.
  for (let doublings = 0; distanceAt(infeasible) <= threshold; doublings++) {
    if (doublings === 1000) throw new AttackError("gamma search found no upper bound");
    feasible = infeasible;
    infeasible *= 2;
  }
  while (infeasible - feasible > tolerance) {
    const mid = (feasible + infeasible) / 2;
    if (distanceAt(mid) <= threshold) feasible = mid;
    else infeasible = mid;
  }

  const delta = new Float32Array(length);
  for (let j = 0; j < length; j++) delta[j] = mean[j] + feasible * perturbation[j];
  return { delta, gamma: feasible, threshold, distance: distanceAt(feasible) };
}

function perturbationOf(
  direction: PerturbationDirection,
  mean: Float64Array,
  std: Float64Array,
): Float64Array {
  const out = new Float64Array(mean.length);
  if (direction === "std") {
    for (let j = 0; j < out.length; j++) out[j] = -std[j];
  } else if (direction === "sign") {
    for (let j = 0; j < out.length; j++) out[j] = -Math.sign(mean[j]);
  } else {
    let norm = 0;
    for (let j = 0; j < out.length; j++) norm += mean[j] * mean[j];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let j = 0; j < out.length; j++) out[j] = -mean[j] / norm;
  }
  return out;
}

/**
 * Model replacement: returns (numClients / eta) * backdoorDelta, so that after FedAvg with
 * server learning rate eta over numClients clients the backdoored model replaces the global
 * one (the other deltas are assumed to nearly cancel out).
 */
export function modelReplacement(
  backdoorDelta: Float32Array,
  numClients: number,
  eta = 1,
): Float32Array {
  assertVector(backdoorDelta, "backdoorDelta");
  assertInteger(numClients, "numClients", 1);
  assertPositive(eta, "eta");
  return scaleDelta(backdoorDelta, numClients / eta);
}

/**
 * Colluding Sybils: returns `count` near-identical deltas, each `maliciousDelta` plus its own
 * N(0, sigma^2) noise. Sybil i draws from the stream seeded by seed + i.
 */
export function colludingSybils(
  maliciousDelta: Float32Array,
  count: number,
  sigma: number,
  seed: number,
): Float32Array[] {
  assertVector(maliciousDelta, "maliciousDelta");
  assertInteger(count, "count", 1);
  assertNonNegative(sigma, "sigma");
  assertFiniteNumber(seed, "seed");
  // Nearby seeds give unrelated streams because createRandom mixes its seed through splitmix32.
  return Array.from({ length: count }, (_, i) => addGaussianNoise(maliciousDelta, sigma, seed + i));
}

/**
 * Free rider: returns the global weights plus N(0, sigma^2) noise, posing as a trained update
 * without any training. Its delta is the noise alone.
 */
export function freeRider(globalWeights: Float32Array, sigma: number, seed: number): Float32Array {
  assertVector(globalWeights, "globalWeights");
  return addGaussianNoise(globalWeights, sigma, seed);
}
