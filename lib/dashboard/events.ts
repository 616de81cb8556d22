/**
 * The security event list (newest first, filtered, paged by sequence number) and the result of
 * walking the hash chain, for the dashboard's events page.
 */
import type { EventType, PrismaClient, Severity } from "../generated/prisma/client";
import { verifyChain } from "../monitoring/chain";
import { SecurityEventLogger } from "../monitoring/security-events";
import type { EventFilters } from "../validations/dashboard";
import { TIME_RANGES } from "../validations/dashboard";
import { isoRequired } from "./time";

export const EVENT_PAGE_SIZE = 50;

export interface EventRow {
  sequence: string;
  id: string;
  type: EventType;
  severity: Severity;
  clientId: string | null;
  operatorId: string | null;
  operatorEmail: string | null;
  description: string;
  metadata: Record<string, unknown>;
  timestamp: string;
  hash: string;
}

export interface EventPage {
  events: EventRow[];
  /** Pass as `cursor` to read older events; null on the last page. */
  nextCursor: string | null;
  range: { start: string; end: string };
}

export type ChainStatus =
  | {
      ok: true;
      count: number;
      headSequence: string | null;
      sequenceGaps: number;
      checkedAt: string;
    }
  | {
      ok: false;
      count: number;
      firstBrokenSequence: string;
      kind: string;
      reason: string;
      checkedAt: string;
    };

/** Returns one page of events matching `filters`, newest first. */
export async function getEventPage(
  prisma: PrismaClient,
  filters: EventFilters,
  now = new Date(),
): Promise<EventPage> {
  const start = new Date(now.getTime() - TIME_RANGES[filters.range]);
  const page = await new SecurityEventLogger(prisma).getEvents(start, now, filters.type ?? null, {
    severity: filters.severity,
    clientId: filters.clientId,
    cursor: filters.cursor ?? null,
    limit: EVENT_PAGE_SIZE,
    order: "desc",
  });
  const operatorIds = [
    ...new Set(page.events.map((e) => e.operatorId).filter((id): id is string => id !== null)),
  ];
  const operators =
    operatorIds.length === 0
      ? []
      : await prisma.user.findMany({
          where: { id: { in: operatorIds } },
          select: { id: true, email: true },
        });
  return {
    events: page.events.map((event) => ({
      sequence: event.sequence.toString(),
      id: event.id,
      type: event.type,
      severity: event.severity,
      clientId: event.clientId,
      operatorId: event.operatorId,
      operatorEmail: operators.find((o) => o.id === event.operatorId)?.email ?? null,
      description: event.description,
      metadata: event.metadata,
      timestamp: isoRequired(event.timestamp),
      hash: event.hash,
    })),
    nextCursor: page.nextCursor === null ? null : page.nextCursor.toString(),
    range: { start: start.toISOString(), end: now.toISOString() },
  };
}

/** Walks the whole event chain and returns whether it is intact, or its first broken row. */
export async function getChainStatus(prisma: PrismaClient): Promise<ChainStatus> {
  const result = await verifyChain(prisma);
  const checkedAt = new Date().toISOString();
  if (result.ok) {
    return {
      ok: true,
      count: result.count,
      headSequence: result.headSequence === null ? null : result.headSequence.toString(),
      sequenceGaps: result.sequenceGaps,
      checkedAt,
    };
  }
  return {
    ok: false,
    count: result.count,
    firstBrokenSequence: result.firstBrokenSequence.toString(),
    kind: result.kind,
    reason: result.reason,
    checkedAt,
  };
}
