/**
 * Creating a federation from a model spec: validates the spec, draws the initial weights with a
 * seed, and resolves the settings from the configuration and the operator's overrides.
 */
import type { ServerKeys } from "../auth/server-keys";
import type { AppConfig } from "../config";
import type { Federation, PrismaClient } from "../generated/prisma/client";
import { initialWeights, initTensorFlow, parseModelSpec } from "../ml";
import { createFederation } from "./federation";
import { type FederationSettingsOverrides, resolveFederationSettings } from "./settings";

export interface CreateFederationFromSpecInput {
  name: string;
  modelSpec: unknown;
  plannedRounds: number;
  minClients: number;
  roundTimeoutSeconds: number;
  settings?: FederationSettingsOverrides;
  /** Seed of the initial weights; the same seed gives the same model version 0. */
  seed?: number;
  createdById?: string | null;
}

export async function createFederationFromSpec(
  prisma: PrismaClient,
  serverKeys: ServerKeys,
  config: AppConfig,
  input: CreateFederationFromSpecInput,
): Promise<Federation> {
  const spec = parseModelSpec(input.modelSpec);
  await initTensorFlow();
  const weights = initialWeights(spec, input.seed ?? 1);
  return createFederation(prisma, serverKeys, {
    name: input.name,
    modelSpec: spec as unknown as Record<string, unknown>,
    initialWeights: weights,
    settings: resolveFederationSettings(config, input.settings),
    plannedRounds: input.plannedRounds,
    minClients: input.minClients,
    roundTimeoutSeconds: input.roundTimeoutSeconds,
    createdById: input.createdById,
  });
}
