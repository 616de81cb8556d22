/**
 * The overview page's data: the federation in focus (the running one started last, else the
 * newest), its current round and per-round results, recent anomalies, open alerts by severity and
 * client counts.
 */
import type { ClientStatus, PrismaClient, Severity } from "../generated/prisma/client";
import { getSecuritySummary } from "../monitoring/summary";
import {
  type FederationSummary,
  getRoundProgress,
  getRoundRows,
  listFederations,
  type RoundProgress,
  type RoundRow,
} from "./federations";
import { isoRequired } from "./time";

export interface AnomalyRow {
  updateId: string;
  clientId: string;
  federationId: string;
  roundNumber: number;
  score: number;
  threshold: number;
  explanation: string;
  createdAt: string;
}

export interface OverviewData {
  federations: FederationSummary[];
  focus: {
    federation: FederationSummary;
    currentRound: RoundProgress | null;
    rounds: RoundRow[];
  } | null;
  anomalies: { total: number; recent: AnomalyRow[] };
  /** Open and acknowledged alerts. */
  openAlerts: Record<Severity, number> & { total: number };
  clients: Record<ClientStatus, number> & { total: number };
}

/** Anomalies listed on the overview. */
export const RECENT_ANOMALIES = 10;

export async function getOverview(prisma: PrismaClient): Promise<OverviewData> {
  const federations = await listFederations(prisma);
  const focused =
    federations
      .filter((f) => f.status === "running")
      .sort((a, b) => (b.startedAt ?? "").localeCompare(a.startedAt ?? ""))[0] ?? federations[0];

  const summary = await getSecuritySummary(prisma, { roundLimit: 0 });
  const scores = await prisma.anomalyScore.findMany({
    where: { isAnomalous: true },
    orderBy: { createdAt: "desc" },
    take: RECENT_ANOMALIES,
    include: { round: { select: { number: true, federationId: true } } },
  });
  const statusCounts = await prisma.client.groupBy({ by: ["status"], _count: { _all: true } });
  const clients = { active: 0, quarantined: 0, revoked: 0, total: 0 };
  for (const row of statusCounts) {
    clients[row.status] = row._count._all;
    clients.total += row._count._all;
  }

  return {
    federations,
    focus: focused
      ? {
          federation: focused,
          currentRound: await getRoundProgress(prisma, focused.id),
          rounds: await getRoundRows(prisma, focused.id),
        }
      : null,
    anomalies: {
      total: summary.anomaliesDetected,
      recent: scores.map((score) => ({
        updateId: score.updateId,
        clientId: score.clientId,
        federationId: score.round.federationId,
        roundNumber: score.round.number,
        score: score.score,
        threshold: score.threshold,
        explanation: score.explanation,
        createdAt: isoRequired(score.createdAt),
      })),
    },
    openAlerts: summary.openAlerts,
    clients,
  };
}
