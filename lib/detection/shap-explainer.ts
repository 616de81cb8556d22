/**
 * Per-update explanations of isolation-forest anomaly scores, for the operator dashboard.
 *
 * TreeSHAP (tree-shap.ts) explains the mean path length E[h(x)] exactly. The anomaly score
 * s = 2^(-E[h(x)] / c(ψ)) is a decreasing, non-linear function of it, so the values shown to
 * operators are mapped to score space by one common factor:
 *
 *   expectedValue = 2^(-h0 / c(ψ))   where h0 is the expected path length of the training rows
 *   shapValues[j] = φ_j · (s - expectedValue) / (E[h(x)] - h0)
 *
 * The factor is the slope of the secant between the two points, and it is negative, so a
 * feature that shortened the path raises the score. It makes expectedValue + sum(shapValues)
 * equal the score exactly, and keeps each feature's share of the total and the ranking of the
 * features. When E[h(x)] = h0, the derivative ds/dh = -s ln 2 / c(ψ) replaces the secant. The
 * exact path-length values are returned as well, under `pathLength`.
 *
 * expectedValue is the score of the mean path length, not the mean score of the training rows.
 */

import { assertInteger, describeValue, type FeatureRow, toFeatureVector } from "./checks";
import { describeFeatureName } from "./features";
import { averageUnsuccessfulSearchLength, type IsolationForestDetector } from "./isolation-forest";
import { forestTreeShap } from "./tree-shap";

export interface ShapExplanation {
  /** Score of the training rows' expected path length, 2^(-h0 / c(ψ)). */
  expectedValue: number;
  /** Score-space attribution per feature; expectedValue + sum = explainedOutput. */
  shapValues: number[];
  featureNames: string[];
  featureValues: number[];
  /** The anomaly score of the row. */
  explainedOutput: number;
  isAnomalous: boolean;
  threshold: number;
  /** One sentence naming the features that raised the score most. */
  explanation: string;
  /** Exact TreeSHAP in path-length space: expectedValue + sum(shapValues) = output = E[h(x)]. */
  pathLength: { expectedValue: number; shapValues: number[]; output: number };
}

export interface SHAPExplainerOptions<T> {
  /** Column names. The default is the detector's names, else `feature_0`, `feature_1`, ... */
  featureNames?: readonly string[];
  /** Maps an update to its feature row, so that `explain` accepts updates as well as rows. */
  extractFeatures?: (update: T) => FeatureRow;
  /** Maximum number of features named in `explanation`, default 3. */
  maxFeaturesInExplanation?: number;
}

/** Tolerance when a caller's score is compared with the detector's score of the same row. */
const SCORE_TOLERANCE = 1e-6;

export class SHAPExplainer<T = never> {
  readonly featureNames: readonly string[];
  private readonly extractFeatures?: (update: T) => FeatureRow;
  private readonly maxFeaturesInExplanation: number;

  constructor(
    readonly detector: IsolationForestDetector,
    options: SHAPExplainerOptions<T> = {},
  ) {
    if (!detector?.isFitted) {
      throw new Error("SHAPExplainer needs a fitted IsolationForestDetector: call fit(rows) first");
    }
    const names =
      options.featureNames ??
      detector.featureNames ??
      Array.from({ length: detector.numFeatures }, (_, j) => `feature_${j}`);
    if (names.length !== detector.numFeatures) {
      throw new RangeError(
        `options.featureNames has ${names.length} names, the detector has ${detector.numFeatures} features`,
      );
    }
    this.featureNames = [...names];
    this.extractFeatures = options.extractFeatures;
    this.maxFeaturesInExplanation = assertInteger(
      options.maxFeaturesInExplanation ?? 3,
      "options.maxFeaturesInExplanation",
      1,
    );
  }

  /**
   * Explains the anomaly score of a feature row, or of an update when the explainer was built
   * with `extractFeatures`. A `score` passed by the caller must match the detector's score of
   * the row (within 1e-6), which catches a row explained against the wrong detector.
   */
  explain(input: FeatureRow | T, score?: number): ShapExplanation {
    const row = this.toRow(input);
    const result = forestTreeShap(this.detector, row);
    const output = this.detector.scoreFromPathLength(result.output);
    if (score !== undefined && !(Math.abs(score - output) <= SCORE_TOLERANCE)) {
      throw new RangeError(
        `score must be the detector's score of this row, ${output}, got ${describeValue(score)}`,
      );
    }
    const expectedValue = this.detector.scoreFromPathLength(result.expectedValue);
    const pathDifference = result.output - result.expectedValue;
    const slope =
      pathDifference !== 0
        ? (output - expectedValue) / pathDifference
        : (-output * Math.LN2) / averageUnsuccessfulSearchLength(this.detector.sampleSize);
    const shapValues = Array.from(result.shapValues, (phi) => phi * slope);
    const featureValues = Array.from(row);
    const threshold = this.detector.options.threshold;
    return {
      expectedValue,
      shapValues,
      featureNames: [...this.featureNames],
      featureValues,
      explainedOutput: output,
      isAnomalous: output > threshold,
      threshold,
      explanation: this.describe(output, expectedValue, threshold, shapValues, featureValues),
      pathLength: {
        expectedValue: result.expectedValue,
        shapValues: Array.from(result.shapValues),
        output: result.output,
      },
    };
  }

  private toRow(input: FeatureRow | T): Float64Array {
    if (Array.isArray(input) || ArrayBuffer.isView(input)) {
      return toFeatureVector(input, "row", this.detector.numFeatures);
    }
    if (!this.extractFeatures) {
      throw new TypeError(
        `explain needs a feature row, or an update and an explainer built with extractFeatures, got ${describeValue(input)}`,
      );
    }
    return toFeatureVector(this.extractFeatures(input as T), "row", this.detector.numFeatures);
  }

  private describe(
    score: number,
    expectedValue: number,
    threshold: number,
    shapValues: readonly number[],
    featureValues: readonly number[],
  ): string {
    const verdict = score > threshold ? "above" : "at or below";
    const opening = `Anomaly score ${score.toFixed(3)} is ${verdict} the threshold ${threshold} (expected score ${expectedValue.toFixed(3)})`;
    const raising = shapValues
      .map((value, j) => ({ value, j }))
      .filter(({ value }) => value > 0)
      .sort((a, b) => b.value - a.value)
      .slice(0, this.maxFeaturesInExplanation);
    if (raising.length === 0) return `${opening}, and no feature raised it.`;
    const parts = raising.map(
      ({ value, j }) =>
        `${describeFeatureName(this.featureNames[j])} (${this.featureNames[j]} = ${formatNumber(featureValues[j])}, +${value.toPrecision(2)})`,
    );
    return `${opening}. Raised most by ${joinList(parts)}.`;
  }
}

function formatNumber(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  return magnitude >= 1e4 || magnitude < 1e-3 ? value.toExponential(2) : value.toPrecision(3);
}

function joinList(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}
