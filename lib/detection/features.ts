/**
 * Features of the client updates of one round, computed on each update's delta (client weights
 * minus the global weights the round started from) in the context of every delta of the round.
 *
 * Design decisions:
 * - Most features are round-relative (norm ratios to the round median, cosine and sign agreement
 *   with the coordinate-wise median delta, MAD outliers). Honest clients look alike on them in
 *   any round, the first one included, so the detector can be fitted on the round itself.
 * - The reference direction is the coordinate-wise median delta, which stays close to the honest
 *   deltas while fewer than half of the clients are malicious. The mean would be pulled by one
 *   scaled update.
 * - MAD outliers are counted per coordinate across the round: coordinate j of client i counts
 *   when |d_ij - med_j| > k · 1.4826 · MAD_j. Poisoning changes particular parameters, and
 *   comparing a client with its peers on the same parameter finds that where a per-layer MAD
 *   would average it away. The 1.4826 factor makes 1.4826 · MAD a consistent estimate of the
 *   standard deviation for Gaussian data, so k reads as a number of standard deviations. Medians
 *   use quickselect, so the cost is O(n · d) expected for n clients and d parameters.
 * - "layer_i" is the i-th tensor of the model manifest, so a kernel and a bias are two layers.
 *   The metadata keeps each tensor's name.
 * - The self-reported sample count and loss cost an attacker nothing to fake, so their metadata
 *   marks them untrusted. The round detector leaves them out by default.
 * - Sums of squares and products accumulate in float64. Deltas are float32, like the weights.
 */

import { assertSameLayout, manifestOf, type TensorSpec, type Weights } from "../tensors";
import { assertInRange, assertNonEmptyString, describeValue } from "./checks";

/** Scale that turns a MAD into a consistent estimate of a Gaussian standard deviation. */
export const MAD_TO_STANDARD_DEVIATION = 1.4826;

/** Value of `global.cosine_to_previous` when no update of the round has a previous delta. */
export const NEUTRAL_COSINE_TO_PREVIOUS = 0;

/** Guard for ratios to a round median that is 0 (every client sent a zero layer, say). */
const RATIO_EPSILON = 1e-12;

export interface ClientUpdateInput {
  clientId: string;
  /** Weights the client sent, laid out like the global weights. */
  weights: Weights;
  /** The client's delta from the last round it took part in, as tensors or flattened. */
  previousDelta?: Weights | Float32Array;
  /** Self-reported number of training samples, untrusted. */
  numSamples?: number;
  /** Self-reported training loss, untrusted. */
  loss?: number;
}

export interface RoundInput {
  /** Global weights the round's clients started from. */
  globalWeights: Weights;
  updates: readonly ClientUpdateInput[];
}

export interface FeatureOptions {
  /** k of the MAD outlier test |d - median| > k · 1.4826 · MAD, default 3. */
  madThreshold?: number;
}

export type FeatureScope = "global" | "layer" | "reported";

export interface FeatureMetadata {
  name: string;
  scope: FeatureScope;
  description: string;
  /** False for values that the client reports about itself, which the server cannot verify. */
  trusted: boolean;
  /**
   * True when the value does not change if every delta of the round is multiplied by the same
   * factor (ratios, cosines, sign and MAD fractions). Such values stay comparable across rounds
   * while update norms shrink during training.
   */
  scaleInvariant: boolean;
  /** Index of the tensor in the manifest, for layer features. */
  layerIndex?: number;
  /** Name of the tensor, for layer features. */
  tensorName?: string;
}

export interface RoundFeatures {
  featureNames: string[];
  features: FeatureMetadata[];
  clientIds: string[];
  /** One row per update, in the order of `round.updates`, columns as `featureNames`. */
  rows: Float64Array[];
  /** Flattened delta of each update. Pass it as `previousDelta` in the client's next round. */
  deltas: Float32Array[];
  /** Coordinate-wise median of the round's deltas. */
  medianDelta: Float32Array;
  /** True where the update had no previous delta and `global.cosine_to_previous` was imputed. */
  previousDeltaMissing: boolean[];
  /** True where the update did not report a sample count or loss and the value was imputed. */
  reportedMissing: boolean[];
}

/** An update that cannot be scored: non-finite values, a wrong layout, a duplicate client. */
export class InvalidUpdateError extends Error {
  constructor(
    readonly clientId: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidUpdateError";
  }
}

interface FeatureDefinition {
  /** Full name for global features, the part after "layer_i." for layer features. */
  name: string;
  description: string;
  /** Short phrase for explanations shown to operators. */
  label: string;
  scaleInvariant: boolean;
}

const GLOBAL_FEATURES: readonly FeatureDefinition[] = [
  {
    name: "global.l2_norm",
    description: "L2 norm of the delta",
    label: "update norm",
    scaleInvariant: false,
  },
  {
    name: "global.l2_norm_ratio",
    description: "L2 norm of the delta divided by the round's median delta norm",
    label: "update norm relative to the round",
    scaleInvariant: true,
  },
  {
    name: "global.cosine_to_median",
    description: "cosine similarity to the round's median delta",
    label: "cosine similarity to the median delta",
    scaleInvariant: true,
  },
  {
    name: "global.distance_to_median_ratio",
    description: "L2 distance to the median delta divided by the round's median of that distance",
    label: "distance to the median delta relative to the round",
    scaleInvariant: true,
  },
  {
    name: "global.cosine_to_previous",
    description: "cosine similarity to the client's previous delta",
    label: "cosine similarity to the client's previous delta",
    scaleInvariant: true,
  },
  {
    name: "global.sign_agreement",
    description: "fraction of coordinates whose sign agrees with the median delta",
    label: "sign agreement with the median delta",
    scaleInvariant: true,
  },
  {
    name: "global.max_abs",
    description: "largest absolute coordinate of the delta",
    label: "largest coordinate",
    scaleInvariant: false,
  },
  {
    name: "global.max_abs_ratio",
    description: "largest absolute coordinate divided by the round's median of it",
    label: "largest coordinate relative to the round",
    scaleInvariant: true,
  },
  {
    name: "global.mad_outlier_fraction",
    description: "fraction of coordinates beyond k MADs of the round",
    label: "share of coordinates far from the round median",
    scaleInvariant: true,
  },
];

const LAYER_FEATURES: readonly FeatureDefinition[] = [
  {
    name: "l2_norm",
    description: "L2 norm of the layer's delta",
    label: "norm",
    scaleInvariant: false,
  },
  {
    name: "l2_norm_ratio",
    description: "layer delta norm divided by the round's median for that layer",
    label: "norm relative to the round",
    scaleInvariant: true,
  },
  {
    name: "cosine_to_median",
    description: "cosine similarity of the layer's delta to the median delta's",
    label: "cosine similarity to the median delta",
    scaleInvariant: true,
  },
  {
    name: "distance_to_median_ratio",
    description:
      "L2 distance of the layer's delta to the median delta's, divided by the round's median",
    label: "distance to the median delta relative to the round",
    scaleInvariant: true,
  },
  {
    name: "mean",
    description: "mean of the layer's delta",
    label: "mean",
    scaleInvariant: false,
  },
  {
    name: "std",
    description: "standard deviation of the layer's delta",
    label: "standard deviation",
    scaleInvariant: false,
  },
];

const REPORTED_FEATURES: readonly FeatureDefinition[] = [
  {
    name: "reported.num_samples",
    description: "number of training samples the client reported",
    label: "reported sample count",
    scaleInvariant: false,
  },
  {
    name: "reported.loss",
    description: "training loss the client reported",
    label: "reported loss",
    scaleInvariant: false,
  },
];

/** Returns the metadata of every feature for models laid out as `manifest`, in row order. */
export function describeFeatures(manifest: readonly TensorSpec[]): FeatureMetadata[] {
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new RangeError(`manifest must list at least one tensor, got ${describeValue(manifest)}`);
  }
  const out: FeatureMetadata[] = GLOBAL_FEATURES.map((f) => ({
    name: f.name,
    scope: "global",
    description: f.description,
    trusted: true,
    scaleInvariant: f.scaleInvariant,
  }));
  manifest.forEach((spec, layerIndex) => {
    for (const f of LAYER_FEATURES) {
      out.push({
        name: `layer_${layerIndex}.${f.name}`,
        scope: "layer",
        description: `${f.description} (tensor ${spec.name})`,
        trusted: true,
        scaleInvariant: f.scaleInvariant,
        layerIndex,
        tensorName: spec.name,
      });
    }
  });
  for (const f of REPORTED_FEATURES) {
    out.push({
      name: f.name,
      scope: "reported",
      description: f.description,
      trusted: false,
      scaleInvariant: f.scaleInvariant,
    });
  }
  return out;
}

/**
 * Returns a short plain-language label for a feature name of this module ("layer 2 cosine
 * similarity to the median delta"), or the name itself when it follows another scheme.
 */
export function describeFeatureName(name: string): string {
  const known = [...GLOBAL_FEATURES, ...REPORTED_FEATURES].find((f) => f.name === name);
  if (known) return known.label;
  const layer = /^layer_(\d+)\.(.+)$/.exec(name);
  const layerFeature = layer ? LAYER_FEATURES.find((f) => f.name === layer[2]) : undefined;
  if (layer && layerFeature) return `layer ${layer[1]} ${layerFeature.label}`;
  return name;
}

export function featureNamesFor(manifest: readonly TensorSpec[]): string[] {
  return describeFeatures(manifest).map((f) => f.name);
}

/** Computes the feature row of every update of the round, as the module comment describes. */
export function computeRoundFeatures(
  round: RoundInput,
  options: FeatureOptions = {},
): RoundFeatures {
  const madThreshold = options.madThreshold ?? 3;
  assertInRange(madThreshold, "options.madThreshold", 0, Infinity, true);
  const { manifest, layerOffsets, deltas } = checkRoundAndComputeDeltas(round);
  const updates = round.updates;
  const n = updates.length;
  const d = deltas[0].length;
  const numLayers = manifest.length;

  const { median, mad } = coordinateMedianAndMad(deltas);
  const madFallback = layerMeanMad(mad, layerOffsets);
  const madScale = madThreshold * MAD_TO_STANDARD_DEVIATION;

  const medianLayerNorm = new Float64Array(numLayers);
  let medianNormSquared = 0;
  for (let layer = 0; layer < numLayers; layer++) {
    let sumSquared = 0;
    for (let j = layerOffsets[layer]; j < layerOffsets[layer + 1]; j++) {
      sumSquared += median[j] * median[j];
    }
    medianLayerNorm[layer] = Math.sqrt(sumSquared);
    medianNormSquared += sumSquared;
  }
  const medianNorm = Math.sqrt(medianNormSquared);

  const globalNorm = new Float64Array(n);
  const layerNorm = deltas.map(() => new Float64Array(numLayers));
  const layerMean = deltas.map(() => new Float64Array(numLayers));
  const layerStd = deltas.map(() => new Float64Array(numLayers));
  const layerCosine = deltas.map(() => new Float64Array(numLayers));
  const layerDistance = deltas.map(() => new Float64Array(numLayers));
  const globalDistance = new Float64Array(n);
  const cosineToMedian = new Float64Array(n);
  const signAgreement = new Float64Array(n);
  const maxAbs = new Float64Array(n);
  const madOutlierFraction = new Float64Array(n);

  for (let i = 0; i < n; i++) {
    const delta = deltas[i];
    let dot = 0;
    let agree = 0;
    let signed = 0;
    let largest = 0;
    let outliers = 0;
    let totalSquared = 0;
    let totalDistanceSquared = 0;
    for (let layer = 0; layer < numLayers; layer++) {
      const start = layerOffsets[layer];
      const end = layerOffsets[layer + 1];
      let sum = 0;
      let sumSquared = 0;
      let layerDot = 0;
      let distanceSquared = 0;
      for (let j = start; j < end; j++) {
        const v = delta[j];
        const m = median[j];
        sum += v;
        sumSquared += v * v;
        layerDot += v * m;
        if (v !== 0 || m !== 0) {
          signed++;
          if (Math.sign(v) === Math.sign(m)) agree++;
        }
        const magnitude = Math.abs(v);
        if (magnitude > largest) largest = magnitude;
        const deviation = Math.abs(v - m);
        distanceSquared += deviation * deviation;
        const spread = mad[j] > 0 ? mad[j] : madFallback[layer];
        if (deviation > madScale * spread) outliers++;
      }
      const size = end - start;
      const mean = size > 0 ? sum / size : 0;
      layerNorm[i][layer] = Math.sqrt(sumSquared);
      layerCosine[i][layer] = cosine(layerDot, layerNorm[i][layer], medianLayerNorm[layer]);
      layerMean[i][layer] = mean;
      layerStd[i][layer] = size > 0 ? Math.sqrt(Math.max(0, sumSquared / size - mean * mean)) : 0;
      totalSquared += sumSquared;
      dot += layerDot;
      layerDistance[i][layer] = Math.sqrt(distanceSquared);
      totalDistanceSquared += distanceSquared;
    }
    globalNorm[i] = Math.sqrt(totalSquared);
    globalDistance[i] = Math.sqrt(totalDistanceSquared);
    cosineToMedian[i] = cosine(dot, globalNorm[i], medianNorm);
    signAgreement[i] = signed > 0 ? agree / signed : 1;
    maxAbs[i] = largest;
    madOutlierFraction[i] = d > 0 ? outliers / d : 0;
  }

  const cosineToPrevious = computeCosineToPrevious(updates, deltas, globalNorm);
  const roundMedianNorm = medianOf(globalNorm);
  const roundMedianMaxAbs = medianOf(maxAbs);
  const roundMedianDistance = medianOf(globalDistance);
  const layerMedianNorm = new Float64Array(numLayers);
  for (let layer = 0; layer < numLayers; layer++) {
    layerMedianNorm[layer] = medianOf(Float64Array.from(layerNorm, (norms) => norms[layer]));
  }
  const layerMedianDistance = new Float64Array(numLayers);
  for (let layer = 0; layer < numLayers; layer++) {
    layerMedianDistance[layer] = medianOf(Float64Array.from(layerDistance, (dist) => dist[layer]));
  }
  const numSamples = imputeReported(updates.map((u) => u.numSamples));
  const loss = imputeReported(updates.map((u) => u.loss));

  const features = describeFeatures(manifest);
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(features.length);
    let k = 0;
    row[k++] = globalNorm[i];
    row[k++] = ratio(globalNorm[i], roundMedianNorm);
    row[k++] = cosineToMedian[i];
    row[k++] = ratio(globalDistance[i], roundMedianDistance);
    row[k++] = cosineToPrevious.values[i];
    row[k++] = signAgreement[i];
    row[k++] = maxAbs[i];
    row[k++] = ratio(maxAbs[i], roundMedianMaxAbs);
    row[k++] = madOutlierFraction[i];
    for (let layer = 0; layer < numLayers; layer++) {
      row[k++] = layerNorm[i][layer];
      row[k++] = ratio(layerNorm[i][layer], layerMedianNorm[layer]);
      row[k++] = layerCosine[i][layer];
      row[k++] = ratio(layerDistance[i][layer], layerMedianDistance[layer]);
      row[k++] = layerMean[i][layer];
      row[k++] = layerStd[i][layer];
    }
    row[k++] = numSamples.values[i];
    row[k++] = loss.values[i];
    rows.push(row);
  }

  return {
    featureNames: features.map((f) => f.name),
    features,
    clientIds: updates.map((u) => u.clientId),
    rows,
    deltas,
    medianDelta: median,
    previousDeltaMissing: cosineToPrevious.missing,
    reportedMissing: updates.map((_, i) => numSamples.missing[i] || loss.missing[i]),
  };
}

interface CheckedRound {
  manifest: TensorSpec[];
  layerOffsets: Int32Array;
  deltas: Float32Array[];
}

function checkRoundAndComputeDeltas(round: RoundInput): CheckedRound {
  if (round == null || typeof round !== "object") {
    throw new TypeError(`round must be { globalWeights, updates }, got ${describeValue(round)}`);
  }
  const { globalWeights, updates } = round;
  if (!Array.isArray(globalWeights) || globalWeights.length === 0) {
    throw new RangeError(
      `round.globalWeights must list at least one tensor, got ${describeValue(globalWeights)}`,
    );
  }
  if (!Array.isArray(updates) || updates.length === 0) {
    throw new RangeError(
      `round.updates must contain at least one update, got ${describeValue(updates)}`,
    );
  }
  const manifest = manifestOf(globalWeights);
  assertSameLayout(globalWeights, manifest, "round.globalWeights");
  const layerOffsets = new Int32Array(manifest.length + 1);
  for (let layer = 0; layer < globalWeights.length; layer++) {
    const data = globalWeights[layer].data;
    for (let j = 0; j < data.length; j++) {
      if (!Number.isFinite(data[j])) {
        throw new RangeError(
          `round.globalWeights: tensor "${globalWeights[layer].name}"[${j}] must be finite, got ${data[j]}`,
        );
      }
    }
    layerOffsets[layer + 1] = layerOffsets[layer] + data.length;
  }
  const size = layerOffsets[manifest.length];

  const seen = new Set<string>();
  const deltas = updates.map((update, i) => {
    const clientId = assertNonEmptyString(update?.clientId, `round.updates[${i}].clientId`);
    if (seen.has(clientId)) {
      throw new InvalidUpdateError(clientId, `client ${clientId} sent more than one update`);
    }
    seen.add(clientId);
    try {
      assertSameLayout(update.weights, manifest, `client ${clientId}`);
    } catch (error) {
      throw new InvalidUpdateError(clientId, (error as Error).message);
    }
    const delta = new Float32Array(size);
    for (let layer = 0; layer < manifest.length; layer++) {
      const sent = update.weights[layer].data;
      const base = globalWeights[layer].data;
      const offset = layerOffsets[layer];
      for (let j = 0; j < sent.length; j++) {
        const value = sent[j] - base[j];
        if (!Number.isFinite(value)) {
          throw new InvalidUpdateError(
            clientId,
            `client ${clientId}: tensor "${manifest[layer].name}"[${j}] must be finite, got ${sent[j]}`,
          );
        }
        delta[offset + j] = value;
      }
    }
    checkReported(update.numSamples, clientId, "numSamples", 0);
    checkReported(update.loss, clientId, "loss", -Infinity);
    return delta;
  });
  return { manifest, layerOffsets, deltas };
}

function checkReported(value: unknown, clientId: string, name: string, min: number): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    const expected = min === 0 ? "a finite number >= 0" : "a finite number";
    throw new InvalidUpdateError(
      clientId,
      `client ${clientId}: ${name} must be ${expected}, got ${describeValue(value)}`,
    );
  }
}

/**
 * Computes the coordinate-wise median of the deltas and the MAD (median of |d_ij - med_j| over
 * clients) of every coordinate, with quickselect on one scratch column.
 */
function coordinateMedianAndMad(deltas: readonly Float32Array[]): {
  median: Float32Array;
  mad: Float32Array;
} {
  const n = deltas.length;
  const d = deltas[0].length;
  const median = new Float32Array(d);
  const mad = new Float32Array(d);
  const column = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) column[i] = deltas[i][j];
    const m = medianInPlace(column);
    median[j] = m;
    for (let i = 0; i < n; i++) column[i] = Math.abs(deltas[i][j] - m);
    mad[j] = medianInPlace(column);
  }
  return { median, mad };
}

/**
 * Returns the mean MAD of each layer. It replaces the MAD of a coordinate whose MAD is 0
 * (more than half of the clients sent the same value), which would otherwise count any
 * difference on that coordinate as an outlier. When the layer's mean MAD is 0 too, only an
 * exact match with the median passes.
 */
function layerMeanMad(mad: Float32Array, layerOffsets: Int32Array): Float64Array {
  const out = new Float64Array(layerOffsets.length - 1);
  for (let layer = 0; layer < out.length; layer++) {
    const start = layerOffsets[layer];
    const end = layerOffsets[layer + 1];
    let sum = 0;
    for (let j = start; j < end; j++) sum += mad[j];
    out[layer] = end > start ? sum / (end - start) : 0;
  }
  return out;
}

function computeCosineToPrevious(
  updates: readonly ClientUpdateInput[],
  deltas: readonly Float32Array[],
  norms: Float64Array,
): { values: Float64Array; missing: boolean[] } {
  const values = new Float64Array(updates.length);
  const missing = updates.map(() => true);
  const present: number[] = [];
  updates.forEach((update, i) => {
    if (update.previousDelta === undefined) return;
    const previous = flattenPreviousDelta(update.previousDelta, deltas[i].length, update.clientId);
    let dot = 0;
    let normSquared = 0;
    for (let j = 0; j < previous.length; j++) {
      dot += deltas[i][j] * previous[j];
      normSquared += previous[j] * previous[j];
    }
    values[i] = cosine(dot, norms[i], Math.sqrt(normSquared));
    missing[i] = false;
    present.push(values[i]);
  });
  // A client without a previous delta (first participation) gets the round's median of the
  // available values, so that being new is not an anomaly in itself.
  const neutral =
    present.length > 0 ? medianOf(Float64Array.from(present)) : NEUTRAL_COSINE_TO_PREVIOUS;
  missing.forEach((isMissing, i) => {
    if (isMissing) values[i] = neutral;
  });
  return { values, missing };
}

function flattenPreviousDelta(
  previous: Weights | Float32Array,
  size: number,
  clientId: string,
): Float32Array {
  let flat: Float32Array;
  if (previous instanceof Float32Array) {
    flat = previous;
  } else if (Array.isArray(previous)) {
    flat = new Float32Array(size);
    let offset = 0;
    for (const tensor of previous) {
      if (offset + tensor.data.length > size) break;
      flat.set(tensor.data, offset);
      offset += tensor.data.length;
    }
    if (offset !== size || previous.reduce((sum, t) => sum + t.data.length, 0) !== size) {
      throw new InvalidUpdateError(
        clientId,
        `client ${clientId}: previousDelta has a different size than the model (${size} values)`,
      );
    }
  } else {
    throw new InvalidUpdateError(
      clientId,
      `client ${clientId}: previousDelta must be tensors or a Float32Array, got ${describeValue(previous)}`,
    );
  }
  if (flat.length !== size) {
    throw new InvalidUpdateError(
      clientId,
      `client ${clientId}: previousDelta has ${flat.length} values, expected ${size}`,
    );
  }
  for (let j = 0; j < size; j++) {
    if (!Number.isFinite(flat[j])) {
      throw new InvalidUpdateError(
        clientId,
        `client ${clientId}: previousDelta[${j}] must be finite, got ${flat[j]}`,
      );
    }
  }
  return flat;
}

/** Fills missing self-reported values with the round's median of the reported ones (else 0). */
function imputeReported(values: readonly (number | undefined)[]): {
  values: Float64Array;
  missing: boolean[];
} {
  const present = values.filter((v): v is number => v !== undefined);
  const fill = present.length > 0 ? medianOf(Float64Array.from(present)) : 0;
  return {
    values: Float64Array.from(values, (v) => v ?? fill),
    missing: values.map((v) => v === undefined),
  };
}

/** Returns the cosine similarity, or 0 when either vector is zero (it has no direction). */
function cosine(dot: number, normA: number, normB: number): number {
  if (normA === 0 || normB === 0) return 0;
  return Math.max(-1, Math.min(1, dot / (normA * normB)));
}

function ratio(value: number, median: number): number {
  return (value + RATIO_EPSILON) / (median + RATIO_EPSILON);
}

/** Returns the median of a copy of `values` (the mean of the two middle values for even n). */
export function medianOf(values: ArrayLike<number>): number {
  if (values.length === 0) throw new RangeError("values must contain at least one number, got 0");
  return medianInPlace(Float64Array.from(values));
}

/** Returns the median of `values`, reordering them (quickselect, expected O(n)). */
function medianInPlace(values: Float64Array): number {
  const n = values.length;
  const upper = n >> 1;
  const upperValue = selectInPlace(values, upper);
  if (n % 2 === 1) return upperValue;
  // After selection every value left of `upper` is <= upperValue, so the lower middle value is
  // the largest of them.
  let lowerValue = values[0];
  for (let i = 1; i < upper; i++) if (values[i] > lowerValue) lowerValue = values[i];
  return (lowerValue + upperValue) / 2;
}

/** Moves the k-th smallest value to index k (Hoare partition, median-of-three pivot). */
function selectInPlace(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    const a = values[lo];
    const b = values[mid];
    const c = values[hi];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const tmp = values[i];
        values[i] = values[j];
        values[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}
