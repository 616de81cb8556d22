/**
 * Synthetic model updates for the examples that need no real training.
 *
 * Two kinds:
 * - Gaussian weights in the earlier system's example layout (layer1 10x5, bias1 5, layer2 5x1,
 *   bias2 1), scored one update at a time by a forest fitted on normal updates.
 * - Round updates: honest clients add a shared training direction plus small noise to the global
 *   weights, the way clients that train on similar data move together, and attackers change
 *   that delta. The round detector compares updates of the same round, so this is the input it
 *   is built for.
 *
 * Everything is drawn from lib/random's seeded generator, so a run prints the same numbers
 * every time.
 */
import { computeRoundFeatures } from "@/lib/detection";
import type { Random } from "@/lib/random";
import type { TensorSpec, Weights } from "@/lib/tensors";

/** The earlier system's example model: a 10-5-1 dense network. */
export const EXAMPLE_LAYOUT: readonly TensorSpec[] = [
  { name: "layer1", shape: [10, 5] },
  { name: "bias1", shape: [5] },
  { name: "layer2", shape: [5, 1] },
  { name: "bias2", shape: [1] },
];

/** Mean and standard deviation of each tensor's values, by tensor name. */
export type WeightDistribution = Record<string, { mean: number; std: number }>;

/** Weights of a normal client in the earlier system's examples. */
export const NORMAL_DISTRIBUTION: WeightDistribution = {
  layer1: { mean: 0, std: 0.1 },
  bias1: { mean: 0, std: 0.05 },
  layer2: { mean: 0, std: 0.1 },
  bias2: { mean: 0, std: 0.05 },
};

/** Weights of a malicious client in the earlier system's examples: shifted means, wide spread. */
export const MALICIOUS_DISTRIBUTION: WeightDistribution = {
  layer1: { mean: 0.5, std: 1.0 },
  bias1: { mean: 0.2, std: 0.5 },
  layer2: { mean: -0.3, std: 0.8 },
  bias2: { mean: -0.1, std: 0.3 },
};

/** Draws weights in `layout` from a Gaussian per tensor. */
export function gaussianWeights(
  random: Random,
  distribution: WeightDistribution,
  layout: readonly TensorSpec[] = EXAMPLE_LAYOUT,
): Weights {
  return layout.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const { mean, std } = distribution[spec.name] ?? { mean: 0, std: 0 };
    const data = Float32Array.from({ length: size }, () => mean + std * random.gaussian());
    return { name: spec.name, shape: [...spec.shape], data };
  });
}

/** Returns weights whose every value is zero, in `layout`. */
export function zeroWeights(layout: readonly TensorSpec[] = EXAMPLE_LAYOUT): Weights {
  return layout.map((spec) => ({
    name: spec.name,
    shape: [...spec.shape],
    data: new Float32Array(spec.shape.reduce((a, b) => a * b, 1)),
  }));
}

/**
 * Names of the update features that depend on one update alone: norms, largest magnitude, and
 * each layer's mean and standard deviation. The ratio, cosine and MAD features compare an update
 * with the rest of its round, and a forest fitted on updates one at a time cannot use them.
 */
function isPerUpdateFeature(name: string): boolean {
  return (
    name === "global.l2_norm" ||
    name === "global.max_abs" ||
    /^layer_\d+\.(l2_norm|mean|std)$/.test(name)
  );
}

/**
 * Returns the per-update feature rows of `updates`, computed by lib/detection on the delta from
 * zero weights (so the delta is the weights themselves), and the column names.
 */
export function perUpdateFeatures(updates: readonly Weights[]): {
  featureNames: string[];
  rows: Float64Array[];
} {
  const layout = updates[0].map(({ name, shape }) => ({ name, shape }));
  const features = computeRoundFeatures({
    globalWeights: zeroWeights(layout),
    updates: updates.map((weights, i) => ({ clientId: `update-${i}`, weights })),
  });
  const columns = features.featureNames.flatMap((name, j) => (isPerUpdateFeature(name) ? [j] : []));
  return {
    featureNames: columns.map((j) => features.featureNames[j]),
    rows: features.rows.map((row) => Float64Array.from(columns, (j) => row[j])),
  };
}

/** Draws a training direction shared by the honest clients of a simulation, one value per weight. */
export function sharedDirection(random: Random, size: number, scale: number): Float32Array {
  return Float32Array.from({ length: size }, () => random.gaussian() * scale);
}

/**
 * Returns global + factor * (direction + noise), tensor by tensor: factor 1 is an honest client,
 * a large factor a boosted (model replacement) update, a negative factor a sign flip.
 */
export function roundUpdate(
  random: Random,
  global: Weights,
  direction: Float32Array,
  options: { noise: number; factor?: number },
): Weights {
  const factor = options.factor ?? 1;
  let offset = 0;
  return global.map((tensor) => {
    const data = new Float32Array(tensor.data.length);
    for (let k = 0; k < data.length; k++) {
      const step = direction[offset + k] + random.gaussian() * options.noise;
      data[k] = tensor.data[k] + factor * step;
    }
    offset += tensor.data.length;
    return { name: tensor.name, shape: [...tensor.shape], data };
  });
}
