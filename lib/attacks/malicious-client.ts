/**
 * The earlier Python system's malicious client, as a composed attack in two stages. Before
 * training, 20% of the labels move to (y + 1) mod 10. After training, every trained weight is
 * scaled by 1.5 and N(0, 0.05^2) noise is added. The model stage acts on the full weights, not
 * on the delta, as the earlier system did, so it also inflates the unchanged part of the model.
 */

import { addGaussianNoise, assertFiniteNumber, assertVector } from "./common";
import { flipLabels, type LabelFlipMode, type PoisonedLabels } from "./data-attacks";
import { scaleDelta } from "./model-attacks";

export interface MaliciousClientOptions {
  seed: number;
  /** Share of labels flipped before training; 0.2 by default. */
  flipFraction?: number;
  /** Rule that picks each flipped label; "next", (y + 1) mod numClasses, by default. */
  flipMode?: LabelFlipMode;
  numClasses?: number;
  /** Factor applied to the trained weights; 1.5 by default. */
  scale?: number;
  /** Standard deviation of the noise added to the scaled weights; 0.05 by default. */
  sigma?: number;
}

/** Data stage: returns the labels with flipFraction of them flipped, from stream `seed`. */
export function poisonMaliciousClientLabels(
  labels: ArrayLike<number>,
  options: MaliciousClientOptions,
): PoisonedLabels {
  return flipLabels(labels, {
    fraction: options.flipFraction ?? 0.2,
    mode: options.flipMode ?? "next",
    numClasses: options.numClasses ?? 10,
    seed: options.seed,
  });
}

/**
 * Model stage: returns scale * trainedWeights + N(0, sigma^2) noise per weight. The noise comes
 * from stream seed + 1, so that it does not repeat the data stage's draws.
 */
export function poisonMaliciousClientWeights(
  trainedWeights: Float32Array,
  options: MaliciousClientOptions,
): Float32Array {
  assertVector(trainedWeights, "trainedWeights");
  assertFiniteNumber(options.seed, "seed");
  const scaled = scaleDelta(trainedWeights, options.scale ?? 1.5);
  return addGaussianNoise(scaled, options.sigma ?? 0.05, options.seed + 1);
}
