/**
 * Federation and round data for the dashboard pages and their JSON routes. Every function returns
 * plain JSON (dates as ISO 8601 text), so a server component's first render and the polled route
 * handler hand the same shape to the client components.
 */
import type { FederationStatus, PrismaClient, RoundStatus } from "../generated/prisma/client";
import { getSecuritySummary } from "../monitoring/summary";
import { DashboardNotFoundError } from "./errors";
import { iso, isoRequired } from "./time";

export interface FederationSummary {
  id: string;
  name: string;
  status: FederationStatus;
  architecture: string;
  aggregationRule: string;
  plannedRounds: number;
  currentRound: number;
  minClients: number;
  roundTimeoutSeconds: number;
  clientCount: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface RoundProgress {
  id: string;
  number: number;
  status: RoundStatus;
  quorum: number;
  updatesReceived: number;
  deadline: string;
  openedAt: string;
}

/** One round as the charts and round tables show it. */
export interface RoundRow {
  id: string;
  number: number;
  status: RoundStatus;
  openedAt: string;
  closedAt: string | null;
  accepted: number;
  rejected: number;
  excluded: number;
  anomalies: number;
  quarantined: number;
  testAccuracy: number | null;
  testLoss: number | null;
  failureReason: string | null;
}

export interface FederationSettingsView {
  aggregation: Record<string, unknown>;
  detection: Record<string, unknown>;
  reputation: Record<string, unknown>;
}

export interface FederationDetail {
  federation: FederationSummary;
  modelSpec: Record<string, unknown>;
  settings: FederationSettingsView;
  currentRound: RoundProgress | null;
  /** Oldest first, as the charts draw them. */
  rounds: RoundRow[];
}

export interface RoundUpdateRow {
  id: string;
  clientId: string;
  /** "received" until the round closes and decides the update. */
  status: "received" | "accepted" | "rejected" | "excluded";
  reason: string | null;
  influenceWeight: number | null;
  numSamples: number | null;
  sizeBytes: number;
  receivedAt: string;
  decidedAt: string | null;
  score: number | null;
  threshold: number | null;
  isAnomalous: boolean | null;
}

export interface RoundDetail {
  federation: { id: string; name: string; status: FederationStatus };
  round: RoundRow & {
    quorum: number;
    deadline: string;
    publishedAt: string | null;
    modelVersion: number | null;
    aggregation: string | null;
  };
  updates: RoundUpdateRow[];
}

/** Most rounds a federation page lists and charts. */
export const MAX_ROUNDS_SHOWN = 500;

type FederationRow = Awaited<ReturnType<PrismaClient["federation"]["findMany"]>>[number];

function summarize(federation: FederationRow, clientCount: number): FederationSummary {
  const spec = (federation.modelSpec ?? {}) as { architecture?: unknown };
  return {
    id: federation.id,
    name: federation.name,
    status: federation.status,
    architecture: typeof spec.architecture === "string" ? spec.architecture : "unknown",
    aggregationRule: federation.aggregationRule,
    plannedRounds: federation.plannedRounds,
    currentRound: federation.currentRound,
    minClients: federation.minClients,
    roundTimeoutSeconds: federation.roundTimeoutSeconds,
    clientCount,
    createdAt: isoRequired(federation.createdAt),
    startedAt: iso(federation.startedAt),
    endedAt: iso(federation.endedAt),
  };
}

/** Returns every federation, newest first, with its client count. */
export async function listFederations(prisma: PrismaClient): Promise<FederationSummary[]> {
  const federations = await prisma.federation.findMany({ orderBy: { createdAt: "desc" } });
  const counts = await prisma.client.groupBy({
    by: ["federationId"],
    where: { federationId: { in: federations.map((f) => f.id) } },
    _count: { _all: true },
  });
  return federations.map((federation) =>
    summarize(federation, counts.find((c) => c.federationId === federation.id)?._count._all ?? 0),
  );
}

/** Returns the round now collecting updates, with how many arrived, or null. */
export async function getRoundProgress(
  prisma: PrismaClient,
  federationId: string,
): Promise<RoundProgress | null> {
  const round = await prisma.round.findFirst({
    where: { federationId, status: { in: ["open", "collecting", "aggregating"] } },
    orderBy: { number: "desc" },
  });
  if (!round) return null;
  const updatesReceived = await prisma.modelUpdate.count({ where: { roundId: round.id } });
  return {
    id: round.id,
    number: round.number,
    status: round.status,
    quorum: round.quorum,
    updatesReceived,
    deadline: isoRequired(round.deadline),
    openedAt: isoRequired(round.openedAt),
  };
}

/** Returns the rounds of a federation with their update counts, oldest first. */
export async function getRoundRows(
  prisma: PrismaClient,
  federationId: string,
): Promise<RoundRow[]> {
  const summary = await getSecuritySummary(prisma, {
    federationId,
    roundLimit: MAX_ROUNDS_SHOWN,
  });
  const failures = await prisma.round.findMany({
    where: { federationId, failureReason: { not: null } },
    select: { id: true, failureReason: true },
  });
  return summary.rounds
    .map((round) => ({
      id: round.roundId,
      number: round.number,
      status: round.status as RoundStatus,
      openedAt: isoRequired(round.openedAt),
      closedAt: iso(round.closedAt),
      accepted: round.updatesAccepted,
      rejected: round.updatesRejected,
      excluded: round.updatesExcluded,
      anomalies: round.anomaliesDetected,
      quarantined: round.quarantinedClients,
      testAccuracy: round.testAccuracy,
      testLoss: round.testLoss,
      failureReason: failures.find((f) => f.id === round.roundId)?.failureReason ?? null,
    }))
    .sort((a, b) => a.number - b.number);
}

/** Returns a federation with its settings, current round and rounds. */
export async function getFederationDetail(
  prisma: PrismaClient,
  federationId: string,
): Promise<FederationDetail> {
  const federation = await prisma.federation.findUnique({ where: { id: federationId } });
  if (!federation) throw new DashboardNotFoundError("federation", federationId);
  const clientCount = await prisma.client.count({ where: { federationId } });
  const detection = (federation.detectionConfig ?? {}) as {
    detection?: Record<string, unknown>;
    reputation?: Record<string, unknown>;
  };
  return {
    federation: summarize(federation, clientCount),
    modelSpec: (federation.modelSpec ?? {}) as Record<string, unknown>,
    settings: {
      aggregation: (federation.aggregationConfig ?? {}) as Record<string, unknown>,
      detection: detection.detection ?? {},
      reputation: detection.reputation ?? {},
    },
    currentRound: await getRoundProgress(prisma, federationId),
    rounds: await getRoundRows(prisma, federationId),
  };
}

/** Returns round `number` of a federation with every update it received. */
export async function getRoundDetail(
  prisma: PrismaClient,
  federationId: string,
  number: number,
): Promise<RoundDetail> {
  if (!Number.isInteger(number) || number < 1) {
    throw new DashboardNotFoundError("round", String(number));
  }
  const round = await prisma.round.findUnique({
    where: { federationId_number: { federationId, number } },
    include: {
      federation: { select: { id: true, name: true, status: true } },
      publishedModel: { select: { version: true, metrics: true } },
      updates: { include: { anomalyScore: true }, orderBy: { receivedAt: "asc" } },
    },
  });
  if (!round) throw new DashboardNotFoundError("round", `${number} of federation ${federationId}`);
  const rows = await getSecuritySummary(prisma, { roundId: round.id, roundLimit: 1 });
  const counts = rows.rounds[0];
  const metrics = (round.publishedModel?.metrics ?? {}) as { aggregation?: unknown };
  return {
    federation: round.federation,
    round: {
      id: round.id,
      number: round.number,
      status: round.status,
      openedAt: isoRequired(round.openedAt),
      closedAt: iso(round.closedAt),
      accepted: counts?.updatesAccepted ?? 0,
      rejected: counts?.updatesRejected ?? 0,
      excluded: counts?.updatesExcluded ?? 0,
      anomalies: counts?.anomaliesDetected ?? 0,
      quarantined: counts?.quarantinedClients ?? 0,
      testAccuracy: round.testAccuracy,
      testLoss: round.testLoss,
      failureReason: round.failureReason,
      quorum: round.quorum,
      deadline: isoRequired(round.deadline),
      publishedAt: iso(round.publishedAt),
      modelVersion: round.publishedModel?.version ?? null,
      aggregation: typeof metrics.aggregation === "string" ? metrics.aggregation : null,
    },
    updates: round.updates.map((update) => ({
      id: update.id,
      clientId: update.clientId,
      status: update.decidedAt ? update.status : "received",
      reason: update.reason,
      influenceWeight: update.influenceWeight,
      numSamples: update.numSamples,
      sizeBytes: update.sizeBytes,
      receivedAt: isoRequired(update.receivedAt),
      decidedAt: iso(update.decidedAt),
      score: update.anomalyScore?.score ?? null,
      threshold: update.anomalyScore?.threshold ?? null,
      isAnomalous: update.anomalyScore?.isAnomalous ?? null,
    })),
  };
}
