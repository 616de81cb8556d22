/**
 * SHAP explanation of an anomaly score: an isolation forest fitted on 50 normal updates scores a
 * suspicious one, and SHAPExplainer (exact path-dependent TreeSHAP, lib/detection/tree-shap.ts) splits
 * the score into one contribution per feature.
 *
 * The explainer reports values in score space, scaled so that expectedValue + sum(shapValues)
 * equals the score exactly, and the exact path-length values under `pathLength`, where
 * expectedValue + sum equals the mean path length E[h(x)].
 *
 * Success: the suspicious update scores above the threshold and above an unseen normal update, both
 * additivity identities hold within 1e-9, and the feature with the largest SHAP value raises the
 * score.
 */
import { IsolationForestDetector, SHAPExplainer } from "@/lib/detection";
import { createRandom } from "@/lib/random";
import type { TensorSpec } from "@/lib/tensors";
import { fixed, heading, isEntryPoint, runExample, SuccessChecks } from "./support";
import {
  gaussianWeights,
  NORMAL_DISTRIBUTION,
  perUpdateFeatures,
  type WeightDistribution,
} from "./synthetic-updates";

const THRESHOLD = 0.6;
const TOLERANCE = 1e-9;

/** The earlier SHAP example's model: two dense kernels without biases. */
const SHAP_LAYOUT: readonly TensorSpec[] = [
  { name: "layer1", shape: [5, 3] },
  { name: "layer2", shape: [3, 1] },
];

/** The earlier example's suspicious update: a high mean and spread in layer1, a negative layer2. */
const SUSPICIOUS_DISTRIBUTION: WeightDistribution = {
  layer1: { mean: 0.8, std: 0.5 },
  layer2: { mean: -0.5, std: 0.3 },
};

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export async function main(): Promise<number> {
  const checks = new SuccessChecks();
  const random = createRandom(3);

  heading("Fit the detector");
  const draw = (distribution: WeightDistribution) =>
    gaussianWeights(random, distribution, SHAP_LAYOUT);
  const normal = Array.from({ length: 50 }, () => draw(NORMAL_DISTRIBUTION));
  const training = perUpdateFeatures(normal);
  const detector = new IsolationForestDetector({ seed: 2, threshold: THRESHOLD }).fit(
    training.rows,
    { featureNames: training.featureNames },
  );
  console.log(`Fitted on ${training.rows.length} normal updates (threshold ${THRESHOLD}).`);

  heading("Score a suspicious update");
  const [suspiciousRow, normalRow] = perUpdateFeatures([
    draw(SUSPICIOUS_DISTRIBUTION),
    draw(NORMAL_DISTRIBUTION),
  ]).rows;
  const score = detector.predictAnomalyScore(suspiciousRow);
  console.log(`Anomaly score of the suspicious update: ${fixed(score, 4)}`);

  const explainer = new SHAPExplainer(detector);
  const explanation = explainer.explain(suspiciousRow, score);
  console.log(`\n${explanation.explanation}`);

  console.log("\nTop features by |SHAP value| (score space):");
  const ranked = explanation.shapValues
    .map((value, j) => ({
      value,
      name: explanation.featureNames[j],
      x: explanation.featureValues[j],
    }))
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
  for (const { name, value, x } of ranked.slice(0, 5)) {
    const direction = value > 0 ? "raises" : "lowers";
    console.log(
      `  ${name.padEnd(16)} value ${fixed(x, 4).padStart(8)}  ${direction} the score by ${fixed(Math.abs(value), 4)}`,
    );
  }

  heading("Additivity");
  const scoreSum = explanation.expectedValue + sum(explanation.shapValues);
  console.log(
    `expected value ${fixed(explanation.expectedValue, 6)} + sum of SHAP values ` +
      `${fixed(sum(explanation.shapValues), 6)} = ${fixed(scoreSum, 6)}; score ${fixed(score, 6)}`,
  );
  const path = explanation.pathLength;
  const pathSum = path.expectedValue + sum(path.shapValues);
  const meanPath = detector.expectedPathLength(suspiciousRow);
  console.log(
    `path length: ${fixed(path.expectedValue, 6)} + ${fixed(sum(path.shapValues), 6)} = ` +
      `${fixed(pathSum, 6)}; E[h(x)] ${fixed(meanPath, 6)}`,
  );
  checks.check(
    Math.abs(scoreSum - score) <= TOLERANCE,
    "expected value + sum of SHAP values = score",
  );
  checks.check(
    Math.abs(pathSum - meanPath) <= TOLERANCE,
    "path-length SHAP values add up to E[h(x)]",
  );

  heading("Comparison with a normal update");
  const normalScore = detector.predictAnomalyScore(normalRow);
  const normalExplanation = explainer.explain(normalRow, normalScore);
  console.log(`Normal update:     ${fixed(normalScore, 4)}`);
  console.log(`Suspicious update: ${fixed(score, 4)}`);
  console.log(
    `Difference:        ${score - normalScore >= 0 ? "+" : ""}${fixed(score - normalScore, 4)}`,
  );
  console.log(`\n${normalExplanation.explanation}`);
  checks.check(score > THRESHOLD && explanation.isAnomalous, "suspicious update is anomalous");
  checks.check(score > normalScore, "suspicious update scores above the normal one");

  const top = ranked[0];
  checks.check(top.value > 0, `top feature (${top.name}) raises the score`);
  return checks.finish();
}

if (isEntryPoint(import.meta.url)) void runExample(main);
