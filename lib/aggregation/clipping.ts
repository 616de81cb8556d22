/**
 * Server-side L2 norm clipping of client deltas, applied before any aggregation rule.
 *
 * Each delta whose L2 norm exceeds the round's bound is scaled down to the bound, so no single
 * client can move the model further than the bound, whatever rule follows. The bound is either
 * fixed, or adaptive: a multiple of the median delta norm of the round, which follows the scale
 * of honest training without tuning while a minority of large updates cannot raise it. Norms are
 * accumulated in float64.
 */

import { AggregationError, assertDeltas, assertPositive, throwNonFinite } from "./errors";

export type ClippingConfig =
  /** Clip every delta to L2 norm `maxNorm`. */
  | { mode: "fixed"; maxNorm: number }
  /** Clip every delta to L2 norm `multiplier` times the median delta norm of the round. */
  | { mode: "adaptive"; multiplier: number };

export interface ClippingResult {
  /** The deltas after clipping; an unclipped delta is the input array itself, not a copy. */
  deltas: Float32Array[];
  /** L2 norm of each input delta. */
  norms: Float64Array;
  /** Factor applied to each delta: min(1, maxNorm / norm), and 1 for a zero delta. */
  scales: Float64Array;
  /** The bound applied in this round. */
  maxNorm: number;
}

/** Returns the L2 norm of `values`, accumulated in float64. */
export function l2Norm(values: Float32Array): number {
  if (!(values instanceof Float32Array)) {
    throw new AggregationError("values must be a Float32Array");
  }
  let s0 = 0;
  let s1 = 0;
  let k = 0;
  for (; k + 1 < values.length; k += 2) {
    s0 += values[k] * values[k];
    s1 += values[k + 1] * values[k + 1];
  }
  if (k < values.length) s0 += values[k] * values[k];
  return Math.sqrt(s0 + s1);
}

/** Throws unless `config` is a valid clipping configuration. */
export function assertClippingConfig(config: ClippingConfig): void {
  if (config == null || typeof config !== "object") {
    throw new AggregationError(`clipping must be an object, got ${config}`);
  }
  if (config.mode === "fixed") {
    assertPositive(config.maxNorm, "clipping.maxNorm");
  } else if (config.mode === "adaptive") {
    assertPositive(config.multiplier, "clipping.multiplier");
  } else {
    const mode = (config as { mode?: unknown }).mode;
    throw new AggregationError(`clipping.mode must be "fixed" or "adaptive", got ${String(mode)}`);
  }
}

/**
 * Scales each delta whose L2 norm exceeds the round's bound down to the bound. Returns the
 * clipped deltas with each client's norm and scale factor; the inputs are not modified.
 * `knownNorms`, when given, are the deltas' L2 norms already computed by the caller.
 */
export function clipDeltas(
  deltas: readonly Float32Array[],
  config: ClippingConfig,
  knownNorms?: ArrayLike<number>,
): ClippingResult {
  assertDeltas(deltas);
  assertClippingConfig(config);
  const n = deltas.length;
  if (knownNorms !== undefined && knownNorms.length !== n) {
    throw new AggregationError(`knownNorms has ${knownNorms.length} entries, expected ${n}`);
  }
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    norms[i] = knownNorms === undefined ? l2Norm(deltas[i]) : knownNorms[i];
    if (!Number.isFinite(norms[i]) || norms[i] < 0) {
      if (knownNorms !== undefined) {
        throw new AggregationError(
          `knownNorms[${i}] must be a finite number >= 0, got ${norms[i]}`,
        );
      }
      throwNonFinite(deltas);
    }
  }

  const maxNorm = config.mode === "fixed" ? config.maxNorm : config.multiplier * median(norms);
  const scales = new Float64Array(n);
  const clipped: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const norm = norms[i];
    if (norm <= maxNorm) {
      scales[i] = 1;
      clipped.push(deltas[i]);
      continue;
    }
    const scale = maxNorm / norm;
    scales[i] = scale;
    const source = deltas[i];
    const out = new Float32Array(source.length);
    for (let k = 0; k < source.length; k++) out[k] = source[k] * scale;
    clipped.push(out);
  }
  return { deltas: clipped, norms, scales, maxNorm };
}

/** Returns the median of `values`; the mean of the two middle values for an even count. */
function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const upper = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[upper] : (sorted[upper - 1] + sorted[upper]) / 2;
}
