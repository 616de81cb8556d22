/**
 * The security summary behind the dashboard's overview and the in-process API.
 *
 * Scope: with a federationId, client-related counts cover that federation's clients, and events
 * count only when their clientId is one of them. A roundId narrows to that round: anomalies and
 * quarantines come from its AnomalyScore and ReputationSnapshot rows, and events from the time
 * between its openedAt and its closedAt (or now). Open alerts are not scoped, because alerts carry
 * no federation of their own.
 */
import type { EventType, PrismaClient, Severity } from "../generated/prisma/client";
import { Prisma } from "../generated/prisma/client";
import { EVENT_TYPES, SEVERITIES } from "./security-events";

export const DEFAULT_SUMMARY_ROUNDS = 50;

export interface SecuritySummaryScope {
  federationId?: string;
  roundId?: string;
  /** Most recent rounds listed in `rounds` (default DEFAULT_SUMMARY_ROUNDS). */
  roundLimit?: number;
}

export interface RoundSecuritySummary {
  roundId: string;
  federationId: string;
  number: number;
  status: string;
  openedAt: Date;
  closedAt: Date | null;
  updatesAccepted: number;
  updatesRejected: number;
  updatesExcluded: number;
  anomaliesDetected: number;
  quarantinedClients: number;
  testAccuracy: number | null;
  testLoss: number | null;
}

export interface SecuritySummary {
  scope: {
    federationId: string | null;
    roundId: string | null;
    since: Date | null;
    until: Date | null;
  };
  anomaliesDetected: number;
  quarantinedClients: number;
  authenticationFailures: number;
  /** Open and acknowledged alerts by severity, and their total. */
  openAlerts: Record<Severity, number> & { total: number };
  events: {
    total: number;
    byType: Record<EventType, number>;
    bySeverity: Record<Severity, number>;
  };
  /** Most recent rounds first. */
  rounds: RoundSecuritySummary[];
}

/** Returns the security summary for the whole system, one federation or one round. */
export async function getSecuritySummary(
  prisma: PrismaClient,
  scope: SecuritySummaryScope = {},
): Promise<SecuritySummary> {
  const roundLimit = scope.roundLimit ?? DEFAULT_SUMMARY_ROUNDS;
  if (!Number.isInteger(roundLimit) || roundLimit < 0 || roundLimit > 1000) {
    throw new RangeError(`invalid roundLimit ${roundLimit}, expected an integer from 0 to 1000`);
  }
  let federationId = scope.federationId ?? null;
  let since: Date | null = null;
  let until: Date | null = null;
  if (scope.roundId !== undefined) {
    const round = await prisma.round.findUnique({ where: { id: scope.roundId } });
    if (!round) throw new RangeError(`invalid roundId "${scope.roundId}": round not found`);
    if (federationId !== null && round.federationId !== federationId) {
      throw new RangeError(
        `invalid roundId "${scope.roundId}": it belongs to federation ${round.federationId}, ` +
          `expected a round of federation ${federationId}`,
      );
    }
    federationId = round.federationId;
    since = round.openedAt;
    until = round.closedAt ?? new Date();
  }
  const roundId = scope.roundId ?? null;

  const anomaliesDetected = await prisma.anomalyScore.count({
    where: {
      isAnomalous: true,
      ...(roundId !== null && { roundId }),
      ...(federationId !== null && { round: { federationId } }),
    },
  });
  const quarantinedClients =
    roundId !== null
      ? await prisma.reputationSnapshot.count({ where: { roundId, quarantined: true } })
      : await prisma.client.count({
          where: { status: "quarantined", ...(federationId !== null && { federationId }) },
        });

  const eventScope = Prisma.sql`
    ${since === null ? Prisma.empty : Prisma.sql`AND "timestamp" >= ${since}`}
    ${until === null ? Prisma.empty : Prisma.sql`AND "timestamp" <= ${until}`}
    ${
      federationId === null
        ? Prisma.empty
        : Prisma.sql`AND "clientId" IN (SELECT id FROM "Client" WHERE "federationId" = ${federationId})`
    }`;
  const eventRows = await prisma.$queryRaw<
    { type: EventType; severity: Severity; n: number; failures: number }[]
  >`
    SELECT type, severity, count(*)::int AS n,
           count(*) FILTER (WHERE metadata->'success' = 'false'::jsonb)::int AS failures
    FROM "SecurityEvent"
    WHERE true ${eventScope}
    GROUP BY type, severity`;
  const byType = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  let total = 0;
  let authenticationFailures = 0;
  for (const row of eventRows) {
    byType[row.type] += row.n;
    bySeverity[row.severity] += row.n;
    total += row.n;
    if (row.type === "authentication") authenticationFailures += row.failures;
  }

  const alertRows = await prisma.alert.groupBy({
    by: ["severity"],
    where: { state: { in: ["open", "acknowledged"] } },
    _count: { _all: true },
  });
  const openAlerts = {
    ...(Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>),
    total: 0,
  };
  for (const row of alertRows) {
    openAlerts[row.severity] = row._count._all;
    openAlerts.total += row._count._all;
  }

  const rounds = await summarizeRounds(prisma, federationId, roundId, roundLimit);
  return {
    scope: { federationId, roundId, since, until },
    anomaliesDetected,
    quarantinedClients,
    authenticationFailures,
    openAlerts,
    events: { total, byType, bySeverity },
    rounds,
  };
}

async function summarizeRounds(
  prisma: PrismaClient,
  federationId: string | null,
  roundId: string | null,
  limit: number,
): Promise<RoundSecuritySummary[]> {
  if (limit === 0) return [];
  const rounds = await prisma.round.findMany({
    where: {
      ...(federationId !== null && { federationId }),
      ...(roundId !== null && { id: roundId }),
    },
    orderBy: [{ openedAt: "desc" }, { number: "desc" }],
    take: limit,
  });
  if (rounds.length === 0) return [];
  const ids = rounds.map((r) => r.id);
  const [updates, anomalies, quarantines] = await Promise.all([
    prisma.modelUpdate.groupBy({
      by: ["roundId", "status"],
      where: { roundId: { in: ids } },
      _count: { _all: true },
    }),
    prisma.anomalyScore.groupBy({
      by: ["roundId"],
      where: { roundId: { in: ids }, isAnomalous: true },
      _count: { _all: true },
    }),
    prisma.reputationSnapshot.groupBy({
      by: ["roundId"],
      where: { roundId: { in: ids }, quarantined: true },
      _count: { _all: true },
    }),
  ]);
  const updateCount = (id: string, status: string) =>
    updates.find((u) => u.roundId === id && u.status === status)?._count._all ?? 0;
  return rounds.map((round) => ({
    roundId: round.id,
    federationId: round.federationId,
    number: round.number,
    status: round.status,
    openedAt: round.openedAt,
    closedAt: round.closedAt,
    updatesAccepted: updateCount(round.id, "accepted"),
    updatesRejected: updateCount(round.id, "rejected"),
    updatesExcluded: updateCount(round.id, "excluded"),
    anomaliesDetected: anomalies.find((a) => a.roundId === round.id)?._count._all ?? 0,
    quarantinedClients: quarantines.find((q) => q.roundId === round.id)?._count._all ?? 0,
    testAccuracy: round.testAccuracy,
    testLoss: round.testLoss,
  }));
}
