/**
 * Per-round anomaly scoring: features of the round's updates, an isolation forest fitted on
 * them plus a bounded window of rows accepted in earlier rounds, and a score per update.
 *
 * What the forest is fitted on:
 * - The current round's rows are always in the training set, so the first round is scored
 *   without any history. The default detector features are round-relative and scale-invariant:
 *   norm and distance ratios to the round median, cosines and sign agreement with the median
 *   delta, and the MAD outlier fraction. Honest clients look alike on them in every round, and
 *   attackers stand out from the honest majority of their own round. The
 *   attackers' rows are in the training set too. An isolation forest tolerates that, because a
 *   few distant rows are still isolated in few splits.
 * - Rows of earlier rounds that scored at or below the threshold join a first-in, first-out
 *   window of at most `historySize` rows. They give the forest more honest examples, which
 *   makes the scores of small rounds less noisy. Scale-invariant features stay comparable
 *   while update norms shrink over training. Raw norms would make every new round look like
 *   the low tail of the history.
 * - Self-reported values (sample count, loss) and raw-scale features are left out by default.
 *   They stay in `roundFeatures` for display and can be selected with `detectorFeatures`.
 *
 * Defaults were tuned on simulated rounds: a 294-parameter model, honest deltas = a shared
 * direction plus Gaussian noise, attackers that scale their delta by 10 or flip its sign.
 * `npm run bench:detection -- --synthetic` reruns that simulation (20 seeds of 3 rounds per case)
 * and records the scores in docs/benchmarks/detection-synthetic.json; `npm run bench:detection`
 * measures the defaults on real MNIST training (docs/benchmarks/detection.md).
 * - threshold 0.575, above the standard 0.5: a forest fitted on about ten rows gives typical rows
 *   scores near 0.5, and attackers isolated at the first split about 2^(-2 / c(10)) ≈ 0.69. In
 *   rounds of 8+2 and 40+10 honest+attacking clients, honest updates scored at most 0.556 and
 *   scaling or sign-flipping attackers at least 0.605.
 * - subsampleSize 16 rather than 256: colluding attackers send near-identical deltas and form a
 *   cluster that hides itself when every tree is fitted on all of it. With subsampleSize 256, the unit
 *   test with 40 honest clients and 10 attackers misclassifies updates.
 * - numTrees 300, to offset the noise of the small subsamples. The trees have depth 4 at most.
 * NOTE: rounds of 4 clients or fewer are too small for this threshold: a sign-flipped attacker
 * among 3 honest clients scored as low as 0.563 in the same simulation.
 */

import { assertInRange, assertInteger, describeValue } from "./checks";
import {
  computeRoundFeatures,
  type FeatureMetadata,
  type FeatureOptions,
  type RoundFeatures,
  type RoundInput,
} from "./features";
import {
  IsolationForestDetector,
  type IsolationForestOptions,
  resolveIsolationForestOptions,
} from "./isolation-forest";

export const ROUND_DETECTOR_DEFAULTS = {
  numTrees: 300,
  subsampleSize: 16,
  threshold: 0.575,
  historySize: 256,
} as const;

/**
 * Columns the forest is fitted on: `"scale-invariant"` (trusted scale-invariant features, the
 * default), `"trusted"` (every feature the server computes itself), `"all"`, or a list of names.
 */
export type DetectorFeatureSelection = "scale-invariant" | "trusted" | "all" | readonly string[];

/**
 * Options of the round detector. The forest options default to ROUND_DETECTOR_DEFAULTS here,
 * not to the IsolationForestDetector defaults.
 */
export interface RoundDetectorOptions extends IsolationForestOptions, FeatureOptions {
  /** Maximum number of accepted rows of earlier rounds kept for fitting, default 256. */
  historySize?: number;
  detectorFeatures?: DetectorFeatureSelection;
}

export interface ResolvedRoundDetectorOptions {
  numTrees: number;
  subsampleSize: number;
  seed: number;
  threshold: number;
  madThreshold: number;
  historySize: number;
  detectorFeatures: DetectorFeatureSelection;
}

/** Accepted feature rows of earlier rounds, restricted to the detector's columns. */
export interface HistoryWindow {
  featureNames: string[];
  rows: Float64Array[];
}

export interface UpdateScore {
  clientId: string;
  score: number;
  isAnomalous: boolean;
  /** The row the forest scored, columns as `RoundScores.featureNames`. */
  features: Float64Array;
}

export interface RoundScores {
  /** Names of the detector's columns. */
  featureNames: string[];
  /** One result per update, in the order of `round.updates`. */
  results: UpdateScore[];
  /** Every computed feature, the untrusted and raw-scale ones included. */
  roundFeatures: RoundFeatures;
  /** The forest fitted for this round, for SHAP explanations. */
  detector: IsolationForestDetector;
  /** Number of history rows the forest was fitted on besides the round's own rows. */
  historyRowsUsed: number;
}

export function resolveRoundDetectorOptions(
  options: RoundDetectorOptions = {},
): ResolvedRoundDetectorOptions {
  const forest = resolveIsolationForestOptions({
    numTrees: options.numTrees ?? ROUND_DETECTOR_DEFAULTS.numTrees,
    subsampleSize: options.subsampleSize ?? ROUND_DETECTOR_DEFAULTS.subsampleSize,
    seed: options.seed,
    threshold: options.threshold ?? ROUND_DETECTOR_DEFAULTS.threshold,
  });
  const resolved: ResolvedRoundDetectorOptions = {
    ...forest,
    madThreshold: options.madThreshold ?? 3,
    historySize: options.historySize ?? ROUND_DETECTOR_DEFAULTS.historySize,
    detectorFeatures: options.detectorFeatures ?? "scale-invariant",
  };
  assertInRange(resolved.madThreshold, "options.madThreshold", 0, Infinity, true);
  assertInteger(resolved.historySize, "options.historySize", 0);
  const selection = resolved.detectorFeatures;
  if (
    !Array.isArray(selection) &&
    selection !== "scale-invariant" &&
    selection !== "trusted" &&
    selection !== "all"
  ) {
    throw new RangeError(
      `options.detectorFeatures must be "scale-invariant", "trusted", "all" or a list of feature names, got ${describeValue(selection)}`,
    );
  }
  return resolved;
}

/** Returns the indices of the selected columns in the full feature row. */
export function selectDetectorColumns(
  features: readonly FeatureMetadata[],
  selection: DetectorFeatureSelection,
): number[] {
  if (Array.isArray(selection)) {
    const index = new Map(features.map((f, i) => [f.name, i]));
    if (selection.length === 0) {
      throw new RangeError("options.detectorFeatures must name at least one feature, got []");
    }
    return selection.map((name) => {
      const column = index.get(name);
      if (column === undefined) {
        throw new RangeError(
          `options.detectorFeatures names "${name}", which is not a feature of this model (expected one of ${features.map((f) => f.name).join(", ")})`,
        );
      }
      return column;
    });
  }
  const keep = (f: FeatureMetadata): boolean =>
    selection === "all" || (f.trusted && (selection === "trusted" || f.scaleInvariant));
  return features.flatMap((f, i) => (keep(f) ? [i] : []));
}

/**
 * Scores every update of the round with a forest fitted on the round's rows plus the history
 * rows. History rows with other feature names than this round's (another model layout) are
 * ignored. Needs at least 2 rows in all.
 */
export function scoreRound(
  round: RoundInput,
  options: RoundDetectorOptions & { history?: HistoryWindow } = {},
): RoundScores {
  const resolved = resolveRoundDetectorOptions(options);
  const roundFeatures = computeRoundFeatures(round, { madThreshold: resolved.madThreshold });
  const columns = selectDetectorColumns(roundFeatures.features, resolved.detectorFeatures);
  const featureNames = columns.map((c) => roundFeatures.featureNames[c]);
  const rows = roundFeatures.rows.map((row) => Float64Array.from(columns, (c) => row[c]));

  const history = options.history;
  const historyRows =
    history && sameNames(history.featureNames, featureNames)
      ? history.rows.slice(-resolved.historySize)
      : [];
  const training = [...rows, ...historyRows];
  if (training.length < 2) {
    throw new RangeError(
      `scoring a round needs at least 2 feature rows (updates plus history), got ${training.length}`,
    );
  }

  const detector = new IsolationForestDetector({
    numTrees: resolved.numTrees,
    subsampleSize: resolved.subsampleSize,
    seed: resolved.seed,
    threshold: resolved.threshold,
  }).fit(training, { featureNames });
  const scores = detector.scoreSamples(rows);
  const results = rows.map((features, i) => ({
    clientId: roundFeatures.clientIds[i],
    score: scores[i],
    isAnomalous: scores[i] > resolved.threshold,
    features,
  }));
  return { featureNames, results, roundFeatures, detector, historyRowsUsed: historyRows.length };
}

export interface SerializedRoundDetector {
  format: 1;
  options: ResolvedRoundDetectorOptions;
  history: { featureNames: string[]; rows: number[][] };
}

/**
 * Stateful wrapper of `scoreRound` that keeps the history window. After each round, the rows
 * of updates scored at or below the threshold join the window, and the oldest rows leave it
 * beyond `historySize`.
 */
export class RoundDetector {
  readonly options: ResolvedRoundDetectorOptions;
  private window: HistoryWindow = { featureNames: [], rows: [] };

  constructor(options: RoundDetectorOptions = {}) {
    this.options = resolveRoundDetectorOptions(options);
  }

  get history(): HistoryWindow {
    return { featureNames: [...this.window.featureNames], rows: [...this.window.rows] };
  }

  scoreRound(round: RoundInput): RoundScores {
    const scores = scoreRound(round, { ...this.options, history: this.window });
    if (!sameNames(this.window.featureNames, scores.featureNames)) {
      this.window = { featureNames: [...scores.featureNames], rows: [] };
    }
    for (const result of scores.results) {
      if (!result.isAnomalous) this.window.rows.push(result.features);
    }
    const excess = this.window.rows.length - this.options.historySize;
    if (excess > 0) this.window.rows.splice(0, excess);
    return scores;
  }

  clearHistory(): void {
    this.window = { featureNames: [], rows: [] };
  }

  toJSON(): SerializedRoundDetector {
    const detectorFeatures = this.options.detectorFeatures;
    return {
      format: 1,
      options: {
        ...this.options,
        detectorFeatures: Array.isArray(detectorFeatures)
          ? [...detectorFeatures]
          : detectorFeatures,
      },
      history: {
        featureNames: [...this.window.featureNames],
        rows: this.window.rows.map((row) => Array.from(row)),
      },
    };
  }

  static fromJSON(json: SerializedRoundDetector): RoundDetector {
    if (json == null || typeof json !== "object" || json.format !== 1) {
      throw new RangeError(
        `json must be a serialised round detector of format 1, got ${describeValue(json?.format ?? json)}`,
      );
    }
    const detector = new RoundDetector(json.options);
    const { featureNames, rows } = json.history ?? {};
    if (!Array.isArray(featureNames) || !Array.isArray(rows)) {
      throw new TypeError(
        `json.history must be { featureNames, rows }, got ${describeValue(json.history)}`,
      );
    }
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== featureNames.length) {
        throw new RangeError(
          `json.history.rows[${i}] must contain ${featureNames.length} values, got ${describeValue(row)}`,
        );
      }
      row.forEach((value, j) => {
        if (!Number.isFinite(value)) {
          throw new RangeError(
            `json.history.rows[${i}][${j}] must be a finite number, got ${describeValue(value)}`,
          );
        }
      });
    });
    detector.window = {
      featureNames: [...featureNames],
      rows: rows.slice(-detector.options.historySize).map((row) => Float64Array.from(row)),
    };
    return detector;
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
