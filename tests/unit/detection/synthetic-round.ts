/**
 * Simulated federated rounds for the detection tests and the detection benchmark: a small
 * 4-tensor model, honest deltas drawn as one shared direction plus Gaussian noise, and attackers
 * that scale their honest delta by 10 or flip its sign.
 */

import type { ClientUpdateInput, RoundInput } from "@/lib/detection";
import type { Random } from "@/lib/random";
import type { Weights } from "@/lib/tensors";

export const SYNTHETIC_MANIFEST = [
  { name: "dense/kernel", shape: [20, 10] },
  { name: "dense/bias", shape: [10] },
  { name: "output/kernel", shape: [10, 4] },
  { name: "output/bias", shape: [4] },
];

export type SyntheticAttack = "scale" | "sign_flip";

export interface SyntheticRoundOptions {
  honest: number;
  attackers: number;
  attack: SyntheticAttack;
  /** Standard deviation of the shared direction's coordinates, default 0.01. */
  directionScale?: number;
  /** Standard deviation of each client's noise, default 0.005 (cosine to the median ≈ 0.9). */
  noiseScale?: number;
  /** Global weights to start from; random when absent. */
  globalWeights?: Weights;
}

/** Returns a random model laid out as SYNTHETIC_MANIFEST. */
export function randomWeights(random: Random, scale = 0.1): Weights {
  return SYNTHETIC_MANIFEST.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    return {
      name: spec.name,
      shape: [...spec.shape],
      data: Float32Array.from({ length: size }, () => random.gaussian() * scale),
    };
  });
}

/**
 * Builds one round. Clients `honest-0`, `honest-1`, ... come first, then `attacker-0`, ...
 * Each attacker draws an honest delta and then scales or flips it.
 */
export function syntheticRound(random: Random, options: SyntheticRoundOptions): RoundInput {
  const directionScale = options.directionScale ?? 0.01;
  const noiseScale = options.noiseScale ?? 0.005;
  const globalWeights = options.globalWeights ?? randomWeights(random);
  const direction = globalWeights.map((t) =>
    Float32Array.from(t.data, () => random.gaussian() * directionScale),
  );
  const updates: ClientUpdateInput[] = [];
  const total = options.honest + options.attackers;
  for (let c = 0; c < total; c++) {
    const isAttacker = c >= options.honest;
    const weights = globalWeights.map((t, layer) => ({
      name: t.name,
      shape: [...t.shape],
      data: Float32Array.from(t.data, (value, j) => {
        let delta = direction[layer][j] + random.gaussian() * noiseScale;
        if (isAttacker) delta = options.attack === "scale" ? delta * 10 : -delta;
        return value + delta;
      }),
    }));
    updates.push({
      clientId: isAttacker ? `attacker-${c - options.honest}` : `honest-${c}`,
      weights,
    });
  }
  return { globalWeights, updates };
}
