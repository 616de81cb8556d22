/**
 * The round's aggregator: turns the global model and the clients' updates into the next global
 * model under one configured rule, with optional norm clipping in front of it.
 *
 * Design decisions:
 * - Rules work on deltas (update - global), not on full weights, so that clipping bounds how far
 *   one client moves the model and so that Krum's distances compare what clients changed.
 *   The new global model is global + aggregated delta, both float32 (the rules accumulate in
 *   float64 and round their result to float32).
 * - Updates are sorted by clientId (UTF-16 code unit order) before anything else. The result
 *   is therefore the same, bit for bit, whatever order the updates arrived in, and every tie
 *   (Krum scores, Multi-Krum's m-th place, Bulyan's loop) goes to the smaller clientId.
 * - Every input is checked before the rule runs: layouts with assertSameLayout (the error names
 *   the client and the tensor), non-finite values (named the same way), sample counts, influence
 *   weights and each rule's bound on f. A zero total weight is an error, never a NaN model.
 */

import {
  assertSameLayout,
  flattenWeights,
  manifestOf,
  parameterCount,
  type TensorSpec,
  tensorSize,
  unflattenWeights,
  type Weights,
} from "../tensors";
import { assertClippingConfig, type ClippingConfig, clipDeltas } from "./clipping";
import { AggregationError, assertInteger } from "./errors";
import { assertBulyanBound, assertKrumBound, bulyan, multiKrum } from "./krum";
import { weightedMean } from "./mean";
import { coordinateMedian, trimCount, trimmedMean } from "./order-statistics";

export type AggregationRule =
  /** FedAvg: mean of the deltas weighted by each client's numSamples. */
  | { name: "fedavg" }
  /**
   * Reputation-weighted FedAvg: mean weighted by the caller's influence weights, multiplied by
   * numSamples when `weightBySamples` is true.
   */
  | { name: "reputation"; weightBySamples?: boolean }
  /** Coordinate-wise median. */
  | { name: "median" }
  /** Coordinate-wise trimmed mean without the floor(beta * n) smallest and largest values. */
  | { name: "trimmed-mean"; beta: number }
  /** Krum tolerating f Byzantine clients. */
  | { name: "krum"; f: number }
  /** Mean of the m deltas with the best Krum scores. */
  | { name: "multi-krum"; f: number; m: number }
  /** Bulyan tolerating f Byzantine clients. */
  | { name: "bulyan"; f: number };

export type AggregationRuleName = AggregationRule["name"];

export interface AggregatorConfig {
  rule: AggregationRule;
  /** Norm clipping applied to every delta before the rule; none when absent. */
  clipping?: ClippingConfig;
}

export interface ClientUpdate {
  clientId: string;
  /** The client's full model weights after local training, in the global model's layout. */
  weights: Weights;
  /** Number of training samples behind the update; FedAvg requires it. */
  numSamples?: number;
}

/** Influence weight per clientId, for the "reputation" rule. */
export type InfluenceWeights = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

export interface ClientAggregationRecord {
  clientId: string;
  /** L2 norm of the client's delta before clipping. */
  deltaNorm: number;
  /** Clipping factor applied to the delta; 1 when unclipped or when clipping is off. */
  clipScale: number;
  /** Whether the rule used this client's delta. */
  selected: boolean;
  /**
   * The client's share of the aggregated delta under FedAvg, reputation, Krum and Multi-Krum.
   * It is null under median, trimmed mean and Bulyan, which mix clients per coordinate.
   */
  effectiveWeight: number | null;
  /** Krum score over the whole round, for Krum and Multi-Krum; null otherwise. */
  krumScore: number | null;
}

export interface AggregationResult {
  /** The new global model: global + delta. */
  weights: Weights;
  /** The aggregated delta that was applied. */
  delta: Weights;
  rule: AggregationRuleName;
  /** The clipping bound of this round, or null when clipping is off. */
  clipNorm: number | null;
  /** One record per update, sorted by clientId. */
  clients: ClientAggregationRecord[];
}

const RULE_NAMES: readonly AggregationRuleName[] = [
  "fedavg",
  "reputation",
  "median",
  "trimmed-mean",
  "krum",
  "multi-krum",
  "bulyan",
];

/** Aggregates one round of client updates under a fixed rule and clipping configuration. */
export class ModelAggregator {
  readonly rule: AggregationRule;
  readonly clipping: ClippingConfig | undefined;

  constructor(config: AggregatorConfig = { rule: { name: "fedavg" } }) {
    assertRule(config?.rule);
    if (config.clipping !== undefined) assertClippingConfig(config.clipping);
    this.rule = { ...config.rule };
    this.clipping = config.clipping === undefined ? undefined : { ...config.clipping };
  }

  /**
   * Aggregates `updates` into the next global model. `influenceWeights` (clientId -> weight
   * >= 0) is required by the "reputation" rule and rejected by the others; entries for clients
   * without an update are ignored. Throws LayoutMismatchError for an update whose tensors differ
   * from the global model's, and AggregationError for any other invalid input.
   */
  aggregate(
    globalWeights: Weights,
    updates: readonly ClientUpdate[],
    influenceWeights?: InfluenceWeights,
  ): AggregationResult {
    const specs = checkGlobalWeights(globalWeights);
    const sorted = checkUpdates(updates, specs);
    const n = sorted.length;
    const clientIds = sorted.map((u) => u.clientId);
    const linearWeights = this.linearWeights(sorted, influenceWeights);
    this.checkBound(n);

    const global = flattenWeights(globalWeights);
    // NOTE: every rule materialises all n deltas (n x d float32) before aggregating, so
    // aggregate() with FedAvg costs several times the weightedMean kernel on large rounds.
    const norms = new Float64Array(n);
    let deltas = sorted.map((update, i) => {
      const { delta, squaredNorm } = deltaOf(update, global, specs);
      norms[i] = Math.sqrt(squaredNorm);
      return delta;
    });

    const scales = new Float64Array(n).fill(1);
    let clipNorm: number | null = null;
    if (this.clipping !== undefined) {
      const clipped = clipDeltas(deltas, this.clipping, norms);
      deltas = clipped.deltas;
      scales.set(clipped.scales);
      clipNorm = clipped.maxNorm;
    }

    const outcome = this.applyRule(deltas, linearWeights);
    const next = new Float32Array(global.length);
    for (let k = 0; k < next.length; k++) next[k] = global[k] + outcome.delta[k];

    const clients = clientIds.map(
      (clientId, i): ClientAggregationRecord => ({
        clientId,
        deltaNorm: norms[i],
        clipScale: scales[i],
        selected: outcome.selected[i],
        effectiveWeight: outcome.effectiveWeights?.[i] ?? null,
        krumScore: outcome.krumScores?.[i] ?? null,
      }),
    );
    return {
      weights: unflattenWeights(next, specs),
      delta: unflattenWeights(outcome.delta, specs),
      rule: this.rule.name,
      clipNorm,
      clients,
    };
  }

  /** Returns the per-client weights of FedAvg or the reputation rule; null for other rules. */
  private linearWeights(
    updates: readonly ClientUpdate[],
    influenceWeights: InfluenceWeights | undefined,
  ): Float64Array | null {
    const rule = this.rule;
    if (rule.name !== "reputation" && influenceWeights !== undefined) {
      throw new AggregationError(
        `influence weights are used only by the "reputation" rule, not by "${rule.name}": ` +
          "leave them out, or filter quarantined clients before aggregating",
      );
    }
    if (rule.name === "fedavg") {
      return Float64Array.from(updates, (u) => requireSamples(u, "fedavg"));
    }
    if (rule.name !== "reputation") return null;
    if (influenceWeights === undefined) {
      throw new AggregationError(
        'the "reputation" rule needs influence weights: pass a clientId -> weight map',
      );
    }
    const weights = Float64Array.from(updates, (u) => {
      const influence = lookupInfluence(influenceWeights, u.clientId);
      return rule.weightBySamples ? influence * requireSamples(u, "reputation") : influence;
    });
    if (weights.every((w) => w === 0)) {
      throw new AggregationError(
        `every influence weight is 0 (clients ${updates.map((u) => u.clientId).join(", ")}), ` +
          "so the weighted mean is undefined: give at least one client a weight > 0",
      );
    }
    return weights;
  }

  private checkBound(n: number): void {
    const rule = this.rule;
    if (rule.name === "trimmed-mean") trimCount(rule.beta, n);
    else if (rule.name === "krum") assertKrumBound(n, rule.f);
    else if (rule.name === "multi-krum") {
      assertKrumBound(n, rule.f);
      assertInteger(rule.m, "m", 1, n - rule.f);
    } else if (rule.name === "bulyan") assertBulyanBound(n, rule.f);
  }

  private applyRule(deltas: Float32Array[], linearWeights: Float64Array | null): RuleOutcome {
    const n = deltas.length;
    const rule = this.rule;
    const everyone = new Array<boolean>(n).fill(true);
    switch (rule.name) {
      case "fedavg":
      case "reputation": {
        const weights = linearWeights as Float64Array;
        const delta = weightedMean(deltas, weights);
        let total = 0;
        for (const w of weights) total += w;
        const effectiveWeights = Array.from(weights, (w) => w / total);
        return { delta, selected: effectiveWeights.map((w) => w > 0), effectiveWeights };
      }
      case "median":
        return { delta: coordinateMedian(deltas), selected: everyone };
      case "trimmed-mean":
        return { delta: trimmedMean(deltas, rule.beta), selected: everyone };
      case "krum":
      case "multi-krum": {
        const m = rule.name === "krum" ? 1 : rule.m;
        const result = multiKrum(deltas, rule.f, m);
        const selected = new Array<boolean>(n).fill(false);
        for (const i of result.selected) selected[i] = true;
        return {
          delta: result.delta,
          selected,
          effectiveWeights: selected.map((s) => (s ? 1 / m : 0)),
          krumScores: Array.from(result.scores),
        };
      }
      case "bulyan": {
        const result = bulyan(deltas, rule.f);
        const selected = new Array<boolean>(n).fill(false);
        for (const i of result.selected) selected[i] = true;
        return { delta: result.delta, selected };
      }
    }
  }
}

interface RuleOutcome {
  delta: Float32Array;
  selected: boolean[];
  effectiveWeights?: number[];
  krumScores?: number[];
}

function assertRule(rule: AggregationRule | undefined): void {
  if (rule == null || typeof rule !== "object" || !RULE_NAMES.includes(rule.name)) {
    const name = (rule as { name?: unknown } | undefined)?.name;
    throw new AggregationError(
      `rule.name must be one of ${RULE_NAMES.join(", ")}, got ${String(name)}`,
    );
  }
  switch (rule.name) {
    case "trimmed-mean":
      // The bound against n is checked per round; here only the range of beta.
      trimCount(rule.beta, Number.MAX_SAFE_INTEGER);
      break;
    case "krum":
    case "bulyan":
      assertInteger(rule.f, "rule.f", 0);
      break;
    case "multi-krum":
      assertInteger(rule.f, "rule.f", 0);
      assertInteger(rule.m, "rule.m", 1);
      break;
    case "reputation":
      if (rule.weightBySamples !== undefined && typeof rule.weightBySamples !== "boolean") {
        throw new AggregationError(
          `rule.weightBySamples must be a boolean, got ${String(rule.weightBySamples)}`,
        );
      }
      break;
  }
}

function checkGlobalWeights(globalWeights: Weights): TensorSpec[] {
  if (!Array.isArray(globalWeights) || globalWeights.length === 0) {
    throw new AggregationError("globalWeights must be a non-empty array of tensors");
  }
  const specs = manifestOf(globalWeights);
  assertSameLayout(globalWeights, specs, "global model");
  for (const tensor of globalWeights) assertFinite(tensor.data, "global model", tensor.name);
  if (parameterCount(specs) === 0) {
    throw new AggregationError("globalWeights has no parameters, expected at least one value");
  }
  return specs;
}

/** Checks every update and returns them sorted by clientId. */
function checkUpdates(updates: readonly ClientUpdate[], specs: TensorSpec[]): ClientUpdate[] {
  if (!Array.isArray(updates) || updates.length === 0) {
    throw new AggregationError("updates must be a non-empty array, got no update");
  }
  const seen = new Set<string>();
  for (const update of updates) {
    const clientId = update?.clientId;
    if (typeof clientId !== "string" || clientId.length === 0) {
      throw new AggregationError(`every update needs a non-empty clientId, got ${clientId}`);
    }
    if (seen.has(clientId)) {
      throw new AggregationError(
        `client ${clientId} sent two updates, expected one per round`,
        clientId,
      );
    }
    seen.add(clientId);
    assertSameLayout(update.weights, specs, clientId);
    const samples = update.numSamples;
    if (samples !== undefined && (!Number.isInteger(samples) || samples < 0)) {
      throw new AggregationError(
        `client ${clientId}: numSamples must be an integer >= 0, got ${samples}`,
        clientId,
      );
    }
  }
  return [...updates].sort(compareClientIds);
}

/** Orders updates by clientId in UTF-16 code unit order, the same on every platform. */
function compareClientIds(a: ClientUpdate, b: ClientUpdate): number {
  if (a.clientId < b.clientId) return -1;
  if (a.clientId > b.clientId) return 1;
  return 0;
}

function requireSamples(update: ClientUpdate, rule: string): number {
  if (update.numSamples === undefined) {
    throw new AggregationError(
      `client ${update.clientId}: numSamples is missing, the "${rule}" rule weights by sample count`,
      update.clientId,
    );
  }
  return update.numSamples;
}

function lookupInfluence(weights: InfluenceWeights, clientId: string): number {
  const value =
    weights instanceof Map
      ? weights.get(clientId)
      : Object.hasOwn(weights, clientId)
        ? (weights as Readonly<Record<string, number>>)[clientId]
        : undefined;
  if (value === undefined) {
    throw new AggregationError(`client ${clientId} has no influence weight`, clientId);
  }
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new AggregationError(
      `client ${clientId}: influence weight must be a finite number >= 0, got ${value}`,
      clientId,
    );
  }
  return value;
}

/**
 * Returns update - global as one flat vector, with its squared L2 norm (float64) from the same
 * pass. Throws naming the client and the tensor when a value is NaN or infinite, or when the
 * difference overflows float32.
 */
function deltaOf(
  update: ClientUpdate,
  global: Float32Array,
  specs: TensorSpec[],
): { delta: Float32Array; squaredNorm: number } {
  const delta = new Float32Array(global.length);
  let squaredNorm = 0;
  let offset = 0;
  for (let t = 0; t < specs.length; t++) {
    const data = update.weights[t].data;
    const tensorNorm = subtractInto(delta, data, global, offset);
    // The float64 sum of squares of float32 values cannot overflow, so it is NaN or infinite
    // exactly when a difference is; the slow scan below then names the value.
    if (!Number.isFinite(tensorNorm)) {
      const owner = `client ${update.clientId}`;
      assertFinite(data, owner, specs[t].name, update.clientId);
      throw new AggregationError(
        `${owner}: tensor "${specs[t].name}" differs from the global model by more than float32 can hold`,
        update.clientId,
        specs[t].name,
      );
    }
    squaredNorm += tensorNorm;
    offset += tensorSize(specs[t].shape);
  }
  return { delta, squaredNorm };
}

/**
 * Writes data - global[offset..] into delta[offset..] and returns the sum of the squared
 * differences, kept in four partial sums so that the additions overlap.
 */
function subtractInto(
  delta: Float32Array,
  data: Float32Array,
  global: Float32Array,
  offset: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < data.length; k += 4) {
    const at = offset + k;
    delta[at] = data[k] - global[at];
    delta[at + 1] = data[k + 1] - global[at + 1];
    delta[at + 2] = data[k + 2] - global[at + 2];
    delta[at + 3] = data[k + 3] - global[at + 3];
    s0 += delta[at] * delta[at];
    s1 += delta[at + 1] * delta[at + 1];
    s2 += delta[at + 2] * delta[at + 2];
    s3 += delta[at + 3] * delta[at + 3];
  }
  for (; k < data.length; k++) {
    const at = offset + k;
    delta[at] = data[k] - global[at];
    s0 += delta[at] * delta[at];
  }
  return s0 + s1 + s2 + s3;
}

function assertFinite(
  data: Float32Array,
  owner: string,
  tensorName: string,
  clientId?: string,
): void {
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k])) {
      throw new AggregationError(
        `${owner}: tensor "${tensorName}" has ${data[k]} at index ${k}, expected finite values`,
        clientId,
        tensorName,
      );
    }
  }
}
