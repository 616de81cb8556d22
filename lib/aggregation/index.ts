export {
  type AggregationResult,
  type AggregationRule,
  type AggregationRuleName,
  type AggregatorConfig,
  type ClientAggregationRecord,
  type ClientUpdate,
  type InfluenceWeights,
  ModelAggregator,
} from "./aggregator";
export { type ClippingConfig, type ClippingResult, clipDeltas, l2Norm } from "./clipping";
export { AggregationError } from "./errors";
export {
  assertBulyanBound,
  assertKrumBound,
  type BulyanResult,
  bulyan,
  type KrumResult,
  krum,
  krumScores,
  multiKrum,
  pairwiseSquaredDistances,
} from "./krum";
export { mean, normaliseWeights, weightedMean } from "./mean";
export { coordinateMedian, trimCount, trimmedMean } from "./order-statistics";
export { selectInPlace } from "./select";
