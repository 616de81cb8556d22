/**
 * Federation lifecycle: created -> running -> completed, or stopped by an operator. Creating a
 * federation publishes model version 0 (the initial weights, signed by the server); starting it
 * opens round 1. Each round trains from the newest published model and publishes version
 * `round.number` when it closes (lib/fl/rounds.ts).
 */

import type { ServerKeys } from "../auth/server-keys";
import type { Federation, Prisma, PrismaClient, Round } from "../generated/prisma/client";
import { signModel, toHex } from "../pq";
import type { Weights } from "../tensors";
import type { FederationSettings } from "./settings";

export class FederationStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FederationStateError";
  }
}

export interface CreateFederationInput {
  name: string;
  modelSpec: Record<string, unknown>;
  initialWeights: Weights;
  settings: FederationSettings;
  plannedRounds: number;
  /** Updates that close a round before its deadline. */
  minClients: number;
  roundTimeoutSeconds: number;
  createdById?: string | null;
}

export async function createFederation(
  prisma: PrismaClient,
  serverKeys: ServerKeys,
  input: CreateFederationInput,
): Promise<Federation> {
  if (!/^[\w .:-]{1,100}$/.test(input.name)) {
    throw new RangeError(
      `invalid federation name "${input.name}": use 1-100 letters, digits, spaces, '.', ':', '_' or '-'`,
    );
  }
  for (const [key, value, min] of [
    ["plannedRounds", input.plannedRounds, 1],
    ["minClients", input.minClients, 1],
    ["roundTimeoutSeconds", input.roundTimeoutSeconds, 5],
  ] as const) {
    if (!Number.isInteger(value) || value < min)
      throw new RangeError(`${key} must be an integer >= ${min}, got ${value}`);
  }
  return prisma.$transaction(async (tx) => {
    const federation = await tx.federation.create({
      data: {
        name: input.name,
        modelSpec: input.modelSpec as Prisma.InputJsonValue,
        aggregationRule: input.settings.aggregation.rule,
        aggregationConfig: input.settings.aggregation as Prisma.InputJsonValue,
        detectionConfig: {
          detection: input.settings.detection,
          reputation: input.settings.reputation,
        },
        plannedRounds: input.plannedRounds,
        minClients: input.minClients,
        roundTimeoutSeconds: input.roundTimeoutSeconds,
        createdById: input.createdById ?? null,
      },
    });
    const signed = signModel(
      { federationId: federation.id, version: 0, weights: input.initialWeights },
      serverKeys.signing.secretKey,
    );
    await tx.modelVersion.create({
      data: {
        federationId: federation.id,
        version: 0,
        manifest: signed.statement.manifest as unknown as Prisma.InputJsonValue,
        weights: Buffer.from(signed.payload),
        digest: toHex(signed.statement.weightsDigest),
        signature: Buffer.from(signed.signature),
        metrics: { initial: true },
      },
    });
    return federation;
  });
}

export function federationSettings(federation: Federation): FederationSettings {
  const detectionConfig = federation.detectionConfig as {
    detection: FederationSettings["detection"];
    reputation: FederationSettings["reputation"];
  };
  return {
    aggregation: federation.aggregationConfig as FederationSettings["aggregation"],
    detection: detectionConfig.detection,
    reputation: detectionConfig.reputation,
  };
}

/** Moves a created federation to running and opens round 1. Returns the new round. */
export async function startFederation(
  prisma: PrismaClient,
  federationId: string,
  now = new Date(),
): Promise<Round> {
  return prisma.$transaction(async (tx) => {
    const claimed = await tx.federation.updateMany({
      where: { id: federationId, status: "created" },
      data: { status: "running", startedAt: now },
    });
    if (claimed.count === 0) {
      const federation = await tx.federation.findUnique({ where: { id: federationId } });
      if (!federation) throw new FederationStateError(`federation ${federationId} not found`);
      throw new FederationStateError(
        `federation "${federation.name}" is ${federation.status}; only a created federation can start`,
      );
    }
    const federation = await tx.federation.findUniqueOrThrow({ where: { id: federationId } });
    return openRound(tx, federation, 1, now);
  });
}

/** Stops a running or created federation; its open round is marked failed. */
export async function stopFederation(
  prisma: PrismaClient,
  federationId: string,
  reason: string,
  now = new Date(),
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const claimed = await tx.federation.updateMany({
      where: { id: federationId, status: { in: ["created", "running"] } },
      data: { status: "stopped", endedAt: now },
    });
    if (claimed.count === 0) {
      const federation = await tx.federation.findUnique({ where: { id: federationId } });
      if (!federation) throw new FederationStateError(`federation ${federationId} not found`);
      throw new FederationStateError(
        `federation "${federation.name}" is already ${federation.status}`,
      );
    }
    await tx.round.updateMany({
      where: { federationId, status: { in: ["open", "collecting"] } },
      data: { status: "failed", failureReason: `federation stopped: ${reason}`, closedAt: now },
    });
  });
}

/** Opens round `number`, training from the newest published model version. */
export async function openRound(
  tx: Prisma.TransactionClient,
  federation: Federation,
  number: number,
  now = new Date(),
): Promise<Round> {
  const base = await tx.modelVersion.findFirst({
    where: { federationId: federation.id },
    orderBy: { version: "desc" },
    select: { id: true },
  });
  if (!base)
    throw new FederationStateError(
      `federation "${federation.name}" has no model version to train from`,
    );
  const round = await tx.round.create({
    data: {
      federationId: federation.id,
      number,
      quorum: federation.minClients,
      deadline: new Date(now.getTime() + federation.roundTimeoutSeconds * 1000),
      baseModelVersionId: base.id,
      openedAt: now,
    },
  });
  await tx.federation.update({ where: { id: federation.id }, data: { currentRound: number } });
  return round;
}
