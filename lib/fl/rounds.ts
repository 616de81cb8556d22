/**
 * Closing a round: detection, explanations, reputation, aggregation, evaluation and publication
 * of the next signed global model, then the round's security events and metric points.
 *
 * Exactly once, whatever crashes. The close is a pure function of what is stored: the round's
 * accepted updates, the base model, and the detector and reputation state of the previous round.
 * Every result is written in ONE transaction that also moves the round to `published`. A
 * worker killed before that commit leaves the round in `aggregating` with nothing written, and
 * the retried job computes the same result again. ModelVersion.roundId is unique, so a second
 * publication of a round cannot commit. Events and metric points are written afterwards in one
 * more transaction that sets Round.finalizedAt, which a retry checks first.
 *
 * Update statuses after the close: `accepted` (included in the aggregate, with its influence
 * weight), `rejected` (anomaly score above the threshold) and `excluded` (the client is
 * quarantined or revoked, or its influence weight is 0), each with a reason.
 */
import { AggregationError, ModelAggregator } from "../aggregation";
import type { ServerKeys } from "../auth/server-keys";
import {
  ClientReputationManager,
  RoundDetector,
  type RoundScores,
  type SerializedReputationManager,
  type SerializedRoundDetector,
  SHAPExplainer,
  type ShapExplanation,
} from "../detection";
import type { Prisma, PrismaClient, Round } from "../generated/prisma/client";
import { logger } from "../logger";
import { MetricsCollector } from "../monitoring/metrics";
import { SecurityEventLogger } from "../monitoring/security-events";
import { signModel, toHex } from "../pq";
import { type TensorSpec, unflattenWeights, type Weights } from "../tensors";
import { federationSettings, openRound } from "./federation";
import { aggregatorConfigFor, detectorOptionsFor, reputationOptionsFor } from "./settings";

export interface ModelEvaluation {
  accuracy: number;
  loss: number;
}

/** Scores a global model on the validation split that the server holds. */
export type ModelEvaluator = (
  modelSpec: unknown,
  weights: Weights,
) => Promise<ModelEvaluation | null>;

export interface RoundServices {
  prisma: PrismaClient;
  serverKeys: ServerKeys;
  evaluate?: ModelEvaluator;
  /** Fault injection for tests: runs after the computation, before the publishing commit. */
  beforePublish?: (roundId: string) => Promise<void>;
}

export type CloseReason = "quorum" | "deadline" | "manual";

export interface CloseOutcome {
  roundId: string;
  status: "published" | "failed" | "skipped";
  modelVersion?: number;
  nextRound?: Pick<Round, "id" | "number" | "deadline">;
  federationCompleted?: boolean;
  detail: string;
}

interface UpdateDecision {
  updateId: string;
  clientId: string;
  score: number | null;
  status: "accepted" | "rejected" | "excluded";
  reason: string | null;
  influenceWeight: number;
  explanation?: ShapExplanation;
}

/** Decodes a stored payload (little-endian float32 in manifest order) into tensors. */
export function decodePayload(payload: Uint8Array, manifest: readonly TensorSpec[]): Weights {
  const copy = new Uint8Array(payload.byteLength);
  copy.set(payload);
  return unflattenWeights(new Float32Array(copy.buffer), manifest);
}

/** Closes the round if it is still collecting, or finishes a close that a crash interrupted. */
export async function closeRound(
  services: RoundServices,
  roundId: string,
  reason: CloseReason,
  now = new Date(),
): Promise<CloseOutcome> {
  const { prisma } = services;
  await prisma.round.updateMany({
    where: { id: roundId, status: { in: ["open", "collecting"] } },
    data: { status: "aggregating", closedAt: now },
  });
  const round = await prisma.round.findUnique({
    where: { id: roundId },
    include: { federation: true, baseModelVersion: true },
  });
  if (!round) throw new Error(`round ${roundId} not found`);
  if (round.status === "published" || round.status === "failed") {
    await finalizeRound(services, roundId);
    return {
      roundId,
      status: "skipped",
      detail: `round ${round.number} is already ${round.status}`,
    };
  }
  if (round.federation.status !== "running") {
    await prisma.round.update({
      where: { id: roundId },
      data: { status: "failed", failureReason: `federation is ${round.federation.status}` },
    });
    return { roundId, status: "failed", detail: `federation is ${round.federation.status}` };
  }
  if (!round.baseModelVersion) throw new Error(`round ${roundId} has no base model version`);

  const updates = await prisma.modelUpdate.findMany({
    where: { roundId },
    orderBy: { clientId: "asc" },
    include: { client: { select: { status: true } } },
  });
  if (updates.length === 0) {
    return failEmptyRound(services, round, now);
  }

  const settings = federationSettings(round.federation);
  const manifest = round.baseModelVersion.manifest as unknown as TensorSpec[];
  const globalWeights = decodePayload(round.baseModelVersion.weights, manifest);
  const candidates = updates.map((u) => ({ row: u, weights: decodePayload(u.payload, manifest) }));

  // Detection over every update of the round, so quarantined clients are scored for probation.
  const detector = round.federation.detectorState
    ? RoundDetector.fromJSON(round.federation.detectorState as unknown as SerializedRoundDetector)
    : new RoundDetector(detectorOptionsFor(settings.detection));
  let scores: RoundScores | null = null;
  try {
    scores = detector.scoreRound({
      globalWeights,
      updates: candidates.map((c) => ({
        clientId: c.row.clientId,
        weights: c.weights,
        numSamples: c.row.numSamples ?? undefined,
        loss: c.row.reportedLoss ?? undefined,
      })),
    });
  } catch (error) {
    // NOTE: a round with a single update and no history cannot be scored. It is aggregated
    // unscored rather than dropped, and the round's aggregation event records that.
    logger.warn(
      { err: error, roundId },
      "round could not be scored; aggregating without anomaly scores",
    );
  }
  const explainer = scores
    ? new SHAPExplainer(scores.detector, { featureNames: scores.featureNames })
    : null;

  const reputation = round.federation.reputationState
    ? ClientReputationManager.fromJSON(
        round.federation.reputationState as unknown as SerializedReputationManager,
      )
    : new ClientReputationManager(
        reputationOptionsFor(settings.reputation, settings.detection.anomalyThreshold),
      );
  syncOperatorDecisions(reputation, updates);

  const decisions: UpdateDecision[] = [];
  const reputationChanges: ReturnType<ClientReputationManager["updateReputation"]>[] = [];
  candidates.forEach((candidate, index) => {
    const clientId = candidate.row.clientId;
    const result = scores?.results[index];
    const score = result?.score ?? null;
    let explanation: ShapExplanation | undefined;
    if (explainer && result) explanation = explainer.explain(result.features, result.score);
    if (score !== null)
      reputationChanges.push(reputation.updateReputation(clientId, score, roundId));
    const decision: UpdateDecision = {
      updateId: candidate.row.id,
      clientId,
      score,
      status: "accepted",
      reason: null,
      influenceWeight: 0,
      explanation,
    };
    if (candidate.row.client.status === "revoked") {
      decision.status = "excluded";
      decision.reason = "client revoked";
    } else if (result?.isAnomalous) {
      decision.status = "rejected";
      decision.reason = `anomaly score ${result.score.toFixed(3)} above threshold ${settings.detection.anomalyThreshold}`;
    } else if (reputation.isQuarantined(clientId)) {
      decision.status = "excluded";
      decision.reason = "client quarantined; scored for probation only";
    } else {
      decision.influenceWeight = reputation.getInfluenceWeight(clientId);
      if (decision.influenceWeight <= 0) {
        decision.status = "excluded";
        decision.reason = "influence weight 0 (reputation at or below the floor)";
      }
    }
    decisions.push(decision);
  });

  const included = decisions.filter((d) => d.status === "accepted");
  let newWeights = globalWeights;
  let aggregationDetail = "no update included; the model is unchanged";
  if (included.length > 0) {
    const inputs = included.map((d) => {
      const candidate = candidates.find((c) => c.row.id === d.updateId);
      return {
        clientId: d.clientId,
        weights: candidate?.weights ?? globalWeights,
        numSamples: candidate?.row.numSamples ?? 1,
      };
    });
    const influence = Object.fromEntries(included.map((d) => [d.clientId, d.influenceWeight]));
    const config = aggregatorConfigFor(settings.aggregation, inputs.length);
    try {
      const result = new ModelAggregator(config).aggregate(
        globalWeights,
        inputs,
        config.rule.name === "reputation" ? influence : undefined,
      );
      newWeights = result.weights;
      aggregationDetail = `${config.rule.name} over ${inputs.length} updates`;
    } catch (error) {
      if (!(error instanceof AggregationError)) throw error;
      // A robust rule needs more updates than this round has (Krum needs n > 2f + 2, say):
      // fall back to reputation-weighted FedAvg for this round and record why.
      const fallback = new ModelAggregator({
        rule: { name: "reputation", weightBySamples: true },
        clipping: config.clipping,
      });
      newWeights = fallback.aggregate(globalWeights, inputs, influence).weights;
      aggregationDetail = `${config.rule.name} impossible (${error.message}); used reputation-weighted FedAvg over ${inputs.length} updates`;
    }
  }

  const evaluation = services.evaluate
    ? await services.evaluate(round.federation.modelSpec, newWeights)
    : null;
  const signed = signModel(
    { federationId: round.federationId, version: round.number, weights: newWeights },
    services.serverKeys.signing.secretKey,
  );
  if (services.beforePublish) await services.beforePublish(roundId);

  const lastRound = round.number >= round.federation.plannedRounds;
  const publishedAt = new Date();
  const outcome = await prisma.$transaction(
    async (tx) => {
      const current = await tx.round.findUniqueOrThrow({
        where: { id: roundId },
        select: { status: true },
      });
      if (current.status !== "aggregating") return null;
      await tx.modelVersion.create({
        data: {
          federationId: round.federationId,
          version: round.number,
          roundId,
          manifest: signed.statement.manifest as unknown as Prisma.InputJsonValue,
          weights: Buffer.from(signed.payload),
          digest: toHex(signed.statement.weightsDigest),
          signature: Buffer.from(signed.signature),
          metrics: {
            testAccuracy: evaluation?.accuracy ?? null,
            testLoss: evaluation?.loss ?? null,
            aggregation: aggregationDetail,
            closeReason: reason,
          },
        },
      });
      for (const d of decisions) {
        await tx.modelUpdate.update({
          where: { id: d.updateId },
          data: {
            status: d.status,
            reason: d.reason,
            influenceWeight: d.influenceWeight,
            decidedAt: publishedAt,
          },
        });
        if (d.explanation && d.score !== null) {
          await tx.anomalyScore.create({
            data: {
              updateId: d.updateId,
              roundId,
              clientId: d.clientId,
              score: d.score,
              threshold: settings.detection.anomalyThreshold,
              isAnomalous: d.score > settings.detection.anomalyThreshold,
              featureNames: d.explanation.featureNames,
              featureValues: d.explanation.featureValues,
              shapValues: d.explanation.shapValues,
              expectedValue: d.explanation.expectedValue,
              explanation: d.explanation.explanation,
            },
          });
        }
      }
      for (const clientId of new Set(decisions.map((d) => d.clientId))) {
        const state = reputation.getState(clientId);
        if (!state) continue;
        const client = await tx.client.findUniqueOrThrow({
          where: { id: clientId },
          select: { status: true },
        });
        let status: "revoked" | "quarantined" | "active" = "active";
        if (client.status === "revoked") status = "revoked";
        else if (state.quarantined) status = "quarantined";
        const last = decisions.find((d) => d.clientId === clientId);
        await tx.client.update({
          where: { id: clientId },
          data: {
            reputation: state.reputation,
            influenceWeight: reputation.getInfluenceWeight(clientId),
            consecutiveAnomalies: state.consecutiveAnomalies,
            probationCleanRounds: state.cleanRoundsOnProbation,
            lastAnomalyScore: last?.score ?? null,
            ...(status !== client.status
              ? {
                  status,
                  statusChangedAt: publishedAt,
                  statusReason:
                    status === "quarantined"
                      ? `quarantined: ${state.quarantineReason}`
                      : "released after probation",
                }
              : {}),
          },
        });
        await tx.reputationSnapshot.create({
          data: {
            clientId,
            roundId,
            reputation: state.reputation,
            influenceWeight: reputation.getInfluenceWeight(clientId),
            quarantined: state.quarantined,
            consecutiveAnomalies: state.consecutiveAnomalies,
          },
        });
      }
      await tx.round.update({
        where: { id: roundId },
        data: {
          status: "published",
          publishedAt,
          testAccuracy: evaluation?.accuracy ?? null,
          testLoss: evaluation?.loss ?? null,
        },
      });
      await tx.federation.update({
        where: { id: round.federationId },
        data: {
          detectorState: detector.toJSON() as unknown as Prisma.InputJsonValue,
          reputationState: reputation.toJSON() as unknown as Prisma.InputJsonValue,
          ...(lastRound ? { status: "completed", endedAt: publishedAt } : {}),
        },
      });
      if (lastRound) return { next: undefined };
      const next = await openRound(tx, round.federation, round.number + 1, publishedAt);
      return { next };
    },
    { timeout: 60_000 },
  );
  if (!outcome) {
    return {
      roundId,
      status: "skipped",
      detail: `round ${round.number} was published by another worker`,
    };
  }

  await finalizeRound(services, roundId, { reputationChanges, aggregationDetail, reason });
  logger.info(
    {
      roundId,
      federationId: round.federationId,
      round: round.number,
      included: included.length,
      rejected: decisions.filter((d) => d.status === "rejected").length,
      excluded: decisions.filter((d) => d.status === "excluded").length,
      testAccuracy: evaluation?.accuracy,
    },
    "round published",
  );
  return {
    roundId,
    status: "published",
    modelVersion: round.number,
    nextRound: outcome.next
      ? { id: outcome.next.id, number: outcome.next.number, deadline: outcome.next.deadline }
      : undefined,
    federationCompleted: lastRound,
    detail: aggregationDetail,
  };
}

/** Applies quarantines and releases that operators made on the dashboard since the last round. */
function syncOperatorDecisions(
  reputation: ClientReputationManager,
  updates: { clientId: string; client: { status: string } }[],
): void {
  for (const { clientId, client } of updates) {
    const quarantined = reputation.isQuarantined(clientId);
    if (client.status === "quarantined" && !quarantined) reputation.quarantineClient(clientId);
    if (client.status === "active" && quarantined) reputation.releaseClient(clientId, "operator");
  }
}

async function failEmptyRound(
  services: RoundServices,
  round: Round & { federation: { plannedRounds: number } },
  now: Date,
): Promise<CloseOutcome> {
  const lastRound = round.number >= round.federation.plannedRounds;
  const next = await services.prisma.$transaction(async (tx) => {
    const claimed = await tx.round.updateMany({
      where: { id: round.id, status: "aggregating" },
      data: { status: "failed", failureReason: "no update arrived before the deadline" },
    });
    if (claimed.count === 0) return null;
    const federation = await tx.federation.findUniqueOrThrow({ where: { id: round.federationId } });
    if (lastRound) {
      await tx.federation.update({
        where: { id: federation.id },
        data: { status: "completed", endedAt: now },
      });
      return { next: undefined };
    }
    return { next: await openRound(tx, federation, round.number + 1, now) };
  });
  await finalizeRound(services, round.id);
  return {
    roundId: round.id,
    status: "failed",
    detail: "no update arrived before the deadline",
    nextRound: next?.next
      ? { id: next.next.id, number: next.next.number, deadline: next.next.deadline }
      : undefined,
    federationCompleted: lastRound,
  };
}

/**
 * Records the security events and metric points of a closed round, once: the writes and
 * Round.finalizedAt commit together, and a round that has finalizedAt is skipped.
 */
export async function finalizeRound(
  services: RoundServices,
  roundId: string,
  context?: {
    reputationChanges: ReturnType<ClientReputationManager["updateReputation"]>[];
    aggregationDetail: string;
    reason: CloseReason;
  },
): Promise<void> {
  await services.prisma.$transaction(
    async (tx) => {
      const locked = await tx.$queryRaw<{ finalizedAt: Date | null; status: string }[]>`
        SELECT "finalizedAt", status::text AS status FROM "Round" WHERE id = ${roundId} FOR UPDATE`;
      if (!locked[0] || locked[0].finalizedAt) return;
      const round = await tx.round.findUniqueOrThrow({
        where: { id: roundId },
        include: { updates: { include: { anomalyScore: true } } },
      });
      const events = new SecurityEventLogger(tx as unknown as PrismaClient);
      const base = { roundId, federationId: round.federationId, round: round.number };
      const counts = {
        accepted: round.updates.filter((u) => u.status === "accepted").length,
        rejected: round.updates.filter((u) => u.status === "rejected").length,
        excluded: round.updates.filter((u) => u.status === "excluded").length,
      };
      if (round.status === "failed") {
        await events.logEvent({
          type: "aggregation",
          severity: "medium",
          description: `Round ${round.number} failed: ${round.failureReason ?? "unknown reason"}`,
          metadata: base,
        });
      } else {
        await events.logEvent({
          type: "aggregation",
          severity: "low",
          description: `Round ${round.number} published model version ${round.number}: ${counts.accepted} included, ${counts.rejected} rejected, ${counts.excluded} excluded`,
          metadata: {
            ...base,
            ...counts,
            aggregation: context?.aggregationDetail ?? null,
            closeReason: context?.reason ?? null,
            testAccuracy: round.testAccuracy,
          },
        });
      }
      for (const update of round.updates) {
        if (update.status !== "rejected") continue;
        await events.logEvent({
          type: "anomaly_detection",
          severity: "high",
          clientId: update.clientId,
          description: `Update from ${update.clientId} in round ${round.number} rejected: ${update.reason}`,
          metadata: {
            ...base,
            updateId: update.id,
            score: update.anomalyScore?.score ?? null,
            explanation: update.anomalyScore?.explanation ?? null,
          },
        });
      }
      for (const change of context?.reputationChanges ?? []) {
        if (change.newlyQuarantined) {
          await events.logEvent({
            type: "anomaly_detection",
            severity: "critical",
            clientId: change.clientId,
            description: `Client ${change.clientId} quarantined (${change.quarantineReason}) with reputation ${change.reputation.toFixed(3)}`,
            metadata: {
              ...base,
              action: "quarantine",
              reason: change.quarantineReason,
              reputation: change.reputation,
            },
          });
        } else if (change.released) {
          await events.logEvent({
            type: "anomaly_detection",
            severity: "medium",
            clientId: change.clientId,
            description: `Client ${change.clientId} released after ${change.cleanRoundsOnProbation} clean probation rounds`,
            metadata: { ...base, action: "release", reputation: change.reputation },
          });
        }
      }
      await recordRoundMetrics(tx, round);
      await tx.round.update({ where: { id: roundId }, data: { finalizedAt: new Date() } });
    },
    { timeout: 30_000 },
  );
}

/** Records the round's metric points inside the finalize transaction. */
async function recordRoundMetrics(
  tx: Prisma.TransactionClient,
  round: Round & { updates: { status: string; anomalyScore: { isAnomalous: boolean } | null }[] },
): Promise<void> {
  const quarantined = await tx.client.count({
    where: { federationId: round.federationId, status: "quarantined" },
  });
  const end = round.publishedAt ?? round.closedAt ?? new Date();
  await new MetricsCollector(tx as unknown as PrismaClient).recordRoundMetrics({
    federationId: round.federationId,
    roundNumber: round.number,
    durationSeconds: Math.max(0, (end.getTime() - round.openedAt.getTime()) / 1000),
    accepted: round.updates.filter((u) => u.status === "accepted").length,
    rejected: round.updates.filter((u) => u.status !== "accepted").length,
    anomalies: round.updates.filter((u) => u.anomalyScore?.isAnomalous).length,
    quarantined,
    testAccuracy: round.testAccuracy,
    testLoss: round.testLoss,
    timestamp: end,
  });
}
