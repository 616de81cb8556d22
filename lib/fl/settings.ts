/**
 * Per-federation settings: the configuration's aggregation, detection and reputation sections,
 * with overrides from the operator who creates the federation. They are resolved once and stored
 * on the federation, so editing config.yaml later does not change a running federation.
 */
import { z } from "zod";
import type { AggregatorConfig } from "../aggregation";
import type { AppConfig } from "../config";
import { configSchema } from "../config";
import type { ReputationOptions, RoundDetectorOptions } from "../detection";

const sections = configSchema.shape;

export const federationSettingsSchema = z
  .object({
    aggregation: sections.aggregation,
    detection: sections.detection,
    reputation: sections.reputation,
  })
  .strict();

export type FederationSettings = z.infer<typeof federationSettingsSchema>;

export type FederationSettingsOverrides = {
  aggregation?: Partial<FederationSettings["aggregation"]>;
  detection?: Partial<FederationSettings["detection"]>;
  reputation?: Partial<FederationSettings["reputation"]>;
};

export function resolveFederationSettings(
  config: AppConfig,
  overrides: FederationSettingsOverrides = {},
): FederationSettings {
  return federationSettingsSchema.parse({
    aggregation: { ...config.aggregation, ...overrides.aggregation },
    detection: { ...config.detection, ...overrides.detection },
    reputation: { ...config.reputation, ...overrides.reputation },
  });
}

/** Builds the aggregator configuration for a round with `clientCount` included updates. */
export function aggregatorConfigFor(
  settings: FederationSettings["aggregation"],
  clientCount: number,
): AggregatorConfig {
  const f = settings.byzantineCount;
  let rule: AggregatorConfig["rule"];
  switch (settings.rule) {
    case "fedavg":
      rule = { name: "fedavg" };
      break;
    case "reputation":
      rule = { name: "reputation", weightBySamples: true };
      break;
    case "median":
      rule = { name: "median" };
      break;
    case "trimmed-mean":
      rule = { name: "trimmed-mean", beta: settings.trimFraction };
      break;
    case "krum":
      rule = { name: "krum", f };
      break;
    case "multi-krum":
      rule = { name: "multi-krum", f, m: settings.multiKrumSelect ?? Math.max(1, clientCount - f) };
      break;
    case "bulyan":
      rule = { name: "bulyan", f };
      break;
  }
  let clipping: AggregatorConfig["clipping"];
  if (settings.clipping === "fixed") {
    if (settings.maxNorm === undefined)
      throw new RangeError("aggregation.clipping is fixed but aggregation.maxNorm is not set");
    clipping = { mode: "fixed", maxNorm: settings.maxNorm };
  } else if (settings.clipping === "adaptive") {
    clipping = { mode: "adaptive", multiplier: settings.clippingMultiplier };
  }
  return { rule, clipping };
}

export function detectorOptionsFor(
  settings: FederationSettings["detection"],
): RoundDetectorOptions {
  return {
    numTrees: settings.numTrees,
    subsampleSize: settings.subsampleSize,
    threshold: settings.anomalyThreshold,
    historySize: settings.historyWindow,
    madThreshold: settings.madThreshold,
    seed: settings.seed,
  };
}

export function reputationOptionsFor(
  settings: FederationSettings["reputation"],
  anomalyThreshold: number,
): ReputationOptions {
  return {
    initialReputation: settings.initialReputation,
    alpha: settings.alpha,
    anomalyThreshold,
    quarantineThreshold: settings.quarantineThreshold,
    consecutiveAnomalyLimit: settings.consecutiveAnomalyLimit,
    probationRounds: settings.probationRounds,
    influenceFloor: settings.influenceFloor,
    influenceExponent: settings.influenceExponent,
  };
}
