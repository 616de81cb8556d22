/**
 * Client data for the dashboard: the client list, and a client's reputation and anomaly-score
 * history, its updates and the SHAP explanation of each scored update.
 *
 * A SHAP explanation is additive (TreeSHAP's local accuracy): the expected value plus the sum of
 * the SHAP values equals the anomaly score. `getClientDetail` passes the stored numbers through
 * unchanged so the chart can show that sum.
 */
import type { ClientStatus, PrismaClient, Severity } from "../generated/prisma/client";
import { DashboardNotFoundError } from "./errors";
import { iso, isoRequired } from "./time";

export interface ClientRow {
  id: string;
  displayName: string | null;
  federationId: string | null;
  federationName: string | null;
  status: ClientStatus;
  statusReason: string | null;
  reputation: number;
  influenceWeight: number;
  lastAnomalyScore: number | null;
  /** The later of the last session or update and the last stored update. */
  lastSeenAt: string | null;
  createdAt: string;
}

export interface ShapFeature {
  name: string;
  value: number;
  shap: number;
}

export interface ClientUpdateRow {
  id: string;
  federationId: string;
  roundNumber: number;
  status: "received" | "accepted" | "rejected" | "excluded";
  reason: string | null;
  influenceWeight: number | null;
  receivedAt: string;
  anomaly: {
    score: number;
    threshold: number;
    isAnomalous: boolean;
    expectedValue: number;
    features: ShapFeature[];
    explanation: string;
  } | null;
}

export interface ClientsPage {
  clients: ClientRow[];
  /** Federations a new enrollment token can be bound to. */
  federations: { id: string; name: string; status: string }[];
  /** True while some federation is running, so the list polls at the fast interval. */
  live: boolean;
}

export interface ClientDetail {
  /** True while the client's federation is running. */
  live: boolean;
  client: ClientRow & {
    consecutiveAnomalies: number;
    probationCleanRounds: number;
    statusChangedAt: string | null;
    credential: {
      fingerprint: string;
      issuedAt: string;
      expiresAt: string;
      revokedAt: string | null;
    } | null;
  };
  reputationHistory: {
    roundNumber: number;
    federationId: string;
    reputation: number;
    influenceWeight: number;
    quarantined: boolean;
    createdAt: string;
  }[];
  scoreHistory: {
    roundNumber: number;
    federationId: string;
    score: number;
    threshold: number;
    isAnomalous: boolean;
    createdAt: string;
  }[];
  /** Newest first. */
  updates: ClientUpdateRow[];
  events: {
    sequence: string;
    type: string;
    severity: Severity;
    description: string;
    timestamp: string;
  }[];
}

/** Updates and history points a client page shows: the newest ones. */
export const CLIENT_HISTORY_LIMIT = 200;
export const CLIENT_EVENT_LIMIT = 20;

function latest(a: Date | null | undefined, b: Date | null | undefined): Date | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

/** Returns every client, quarantined first, then by id. */
export async function listClients(prisma: PrismaClient): Promise<ClientRow[]> {
  const clients = await prisma.client.findMany({
    include: { federation: { select: { name: true } } },
    orderBy: { id: "asc" },
  });
  const lastUpdates = await prisma.modelUpdate.groupBy({
    by: ["clientId"],
    _max: { receivedAt: true },
  });
  const order: Record<ClientStatus, number> = { quarantined: 0, active: 1, revoked: 2 };
  return clients
    .map((client) => ({
      id: client.id,
      displayName: client.displayName,
      federationId: client.federationId,
      federationName: client.federation?.name ?? null,
      status: client.status,
      statusReason: client.statusReason,
      reputation: client.reputation,
      influenceWeight: client.influenceWeight,
      lastAnomalyScore: client.lastAnomalyScore,
      lastSeenAt: iso(
        latest(
          client.lastSeenAt,
          lastUpdates.find((u) => u.clientId === client.id)?._max.receivedAt,
        ),
      ),
      createdAt: isoRequired(client.createdAt),
    }))
    .sort((a, b) => order[a.status] - order[b.status] || a.id.localeCompare(b.id));
}

/** Returns the client list with the federations a token can be issued for. */
export async function getClientsPage(prisma: PrismaClient): Promise<ClientsPage> {
  const [clients, federations] = await Promise.all([
    listClients(prisma),
    prisma.federation.findMany({
      where: { status: { in: ["created", "running"] } },
      orderBy: { createdAt: "desc" },
      select: { id: true, name: true, status: true },
    }),
  ]);
  return { clients, federations, live: federations.some((f) => f.status === "running") };
}

function numberArray(value: unknown): number[] {
  return Array.isArray(value) ? value.map((v) => Number(v)) : [];
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => String(v)) : [];
}

/** Returns one client with its histories, updates with SHAP explanations, and recent events. */
export async function getClientDetail(
  prisma: PrismaClient,
  clientId: string,
): Promise<ClientDetail> {
  const client = await prisma.client.findUnique({
    where: { id: clientId },
    include: { federation: { select: { name: true, status: true } } },
  });
  if (!client) throw new DashboardNotFoundError("client", clientId);

  const [credential, snapshots, scores, updates, events] = await Promise.all([
    prisma.credential.findFirst({
      where: { clientId, replacedById: null },
      orderBy: { serial: "desc" },
    }),
    prisma.reputationSnapshot.findMany({
      where: { clientId },
      include: { round: { select: { number: true, federationId: true } } },
      orderBy: { createdAt: "desc" },
      take: CLIENT_HISTORY_LIMIT,
    }),
    prisma.anomalyScore.findMany({
      where: { clientId },
      include: { round: { select: { number: true, federationId: true } } },
      orderBy: { createdAt: "desc" },
      take: CLIENT_HISTORY_LIMIT,
    }),
    prisma.modelUpdate.findMany({
      where: { clientId },
      include: {
        anomalyScore: true,
        round: { select: { number: true, federationId: true } },
      },
      orderBy: { receivedAt: "desc" },
      take: CLIENT_HISTORY_LIMIT,
    }),
    prisma.securityEvent.findMany({
      where: { clientId },
      orderBy: { sequence: "desc" },
      take: CLIENT_EVENT_LIMIT,
    }),
  ]);

  return {
    live: client.federation?.status === "running",
    client: {
      id: client.id,
      displayName: client.displayName,
      federationId: client.federationId,
      federationName: client.federation?.name ?? null,
      status: client.status,
      statusReason: client.statusReason,
      reputation: client.reputation,
      influenceWeight: client.influenceWeight,
      lastAnomalyScore: client.lastAnomalyScore,
      lastSeenAt: iso(latest(client.lastSeenAt, updates[0]?.receivedAt)),
      createdAt: isoRequired(client.createdAt),
      consecutiveAnomalies: client.consecutiveAnomalies,
      probationCleanRounds: client.probationCleanRounds,
      statusChangedAt: iso(client.statusChangedAt),
      credential: credential
        ? {
            fingerprint: credential.fingerprint,
            issuedAt: isoRequired(credential.issuedAt),
            expiresAt: isoRequired(credential.expiresAt),
            revokedAt: iso(credential.revokedAt),
          }
        : null,
    },
    reputationHistory: snapshots.reverse().map((s) => ({
      roundNumber: s.round.number,
      federationId: s.round.federationId,
      reputation: s.reputation,
      influenceWeight: s.influenceWeight,
      quarantined: s.quarantined,
      createdAt: isoRequired(s.createdAt),
    })),
    scoreHistory: scores.reverse().map((s) => ({
      roundNumber: s.round.number,
      federationId: s.round.federationId,
      score: s.score,
      threshold: s.threshold,
      isAnomalous: s.isAnomalous,
      createdAt: isoRequired(s.createdAt),
    })),
    updates: updates.map((update) => {
      const score = update.anomalyScore;
      let anomaly: ClientUpdateRow["anomaly"] = null;
      if (score) {
        const names = stringArray(score.featureNames);
        const values = numberArray(score.featureValues);
        const shap = numberArray(score.shapValues);
        anomaly = {
          score: score.score,
          threshold: score.threshold,
          isAnomalous: score.isAnomalous,
          expectedValue: score.expectedValue,
          features: names.map((name, i) => ({
            name,
            value: values[i] ?? Number.NaN,
            shap: shap[i] ?? 0,
          })),
          explanation: score.explanation,
        };
      }
      return {
        id: update.id,
        federationId: update.round.federationId,
        roundNumber: update.round.number,
        status: update.decidedAt ? update.status : "received",
        reason: update.reason,
        influenceWeight: update.influenceWeight,
        receivedAt: isoRequired(update.receivedAt),
        anomaly,
      };
    }),
    events: events.map((event) => ({
      sequence: event.sequence.toString(),
      type: event.type,
      severity: event.severity,
      description: event.description,
      timestamp: isoRequired(event.timestamp),
    })),
  };
}
