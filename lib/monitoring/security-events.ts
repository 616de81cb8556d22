/**
 * The security event log: append-only and hash-chained.
 *
 * Each row stores `prevHash`, the hash of the row before it (64 zeros for the first), and `hash` =
 * SHA-256(prevHash + "\n" + canonical content), where the canonical content is the JSON of the
 * event's fields with object keys sorted. Editing, inserting or deleting a row breaks the chain
 * at that row. Writers serialise on a transaction-scoped advisory lock, and `prevHash` is unique in
 * the database, so concurrent writers in several processes can never fork the chain.
 *
 * Nothing here updates or deletes an event, and the database rejects both with triggers. Reads page
 * by `sequence`, the insertion order, because caller-supplied timestamps need not be monotonic.
 *
 * Severities chosen by the helpers:
 * - authentication: success low, failure medium. One failure is routine, so each failure also
 *   increments the auth_failures_total counter, on which alert rules catch repeated ones.
 * - cryptographic: success low, failure high (a signature or decapsulation failure on a valid
 *   session points at tampering or a key mix-up).
 * - anomaly_detection: high when the action is a quarantine or the score is at least 0.8,
 *   otherwise medium.
 * - operator_action: low unless the caller passes another severity.
 */
import { createHash, randomUUID } from "node:crypto";
import type { EventType, Prisma, PrismaClient, Severity } from "../generated/prisma/client";
import { logger } from "../logger";
import { inLockedTransaction } from "./locks";
import { FL_METRICS, MetricsCollector } from "./metrics";

export const GENESIS_HASH = "0".repeat(64);
const CHAIN_LOCK_KEY = 0x51534c; // "QSL"

/** Page size of getEvents when the caller gives none, and the largest page it returns. */
export const DEFAULT_EVENT_PAGE_SIZE = 100;
export const MAX_EVENT_PAGE_SIZE = 1000;
/** Anomaly scores at or above this are logged with high severity. */
export const HIGH_SEVERITY_ANOMALY_SCORE = 0.8;

export const EVENT_TYPES = [
  "authentication",
  "cryptographic",
  "anomaly_detection",
  "aggregation",
  "operator_action",
  "system",
] as const satisfies readonly EventType[];

export const SEVERITIES = [
  "low",
  "medium",
  "high",
  "critical",
] as const satisfies readonly Severity[];

export interface SecurityEventInput {
  type: EventType;
  severity: Severity;
  description: string;
  clientId?: string | null;
  operatorId?: string | null;
  metadata?: Record<string, unknown>;
  timestamp?: Date;
}

export interface SecurityEventRecord {
  sequence: bigint;
  id: string;
  type: EventType;
  severity: Severity;
  clientId: string | null;
  operatorId: string | null;
  description: string;
  metadata: Record<string, unknown>;
  timestamp: Date;
  prevHash: string;
  hash: string;
}

/** Returns the canonical JSON of a value: object keys sorted, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function computeEventHash(
  prevHash: string,
  event: Omit<SecurityEventRecord, "sequence" | "prevHash" | "hash">,
): string {
  const content = canonicalJson({
    id: event.id,
    type: event.type,
    severity: event.severity,
    clientId: event.clientId,
    operatorId: event.operatorId,
    description: event.description,
    metadata: event.metadata,
    timestamp: event.timestamp.toISOString(),
  });
  return createHash("sha256").update(`${prevHash}\n${content}`).digest("hex");
}

export class SecurityEventLogger {
  constructor(private readonly prisma: PrismaClient) {}

  /** Appends one event to the chain and returns the stored row. */
  async logEvent(input: SecurityEventInput): Promise<SecurityEventRecord> {
    if (!EVENT_TYPES.includes(input.type)) {
      throw new RangeError(
        `invalid event type "${input.type}", expected one of ${EVENT_TYPES.join(", ")}`,
      );
    }
    if (!SEVERITIES.includes(input.severity)) {
      throw new RangeError(
        `invalid severity "${input.severity}", expected one of ${SEVERITIES.join(", ")}`,
      );
    }
    // Milliseconds only, because the column is TIMESTAMP(3) and the hash must survive a round trip.
    const timestamp = new Date(Math.floor((input.timestamp ?? new Date()).getTime()));
    const event = {
      id: randomUUID(),
      type: input.type,
      severity: input.severity,
      clientId: input.clientId ?? null,
      operatorId: input.operatorId ?? null,
      description: input.description,
      metadata: JSON.parse(canonicalJson(input.metadata ?? {})) as Record<string, unknown>,
      timestamp,
    };
    // Inside a caller's interactive transaction the event commits or rolls back with the
    // caller's other writes.
    const append = async (tx: Prisma.TransactionClient) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`;
      const last = await tx.securityEvent.findFirst({
        orderBy: { sequence: "desc" },
        select: { hash: true },
      });
      const prevHash = last?.hash ?? GENESIS_HASH;
      const hash = computeEventHash(prevHash, event);
      return tx.securityEvent.create({
        data: { ...event, metadata: event.metadata as object, prevHash, hash },
      });
    };
    const row = await inLockedTransaction(this.prisma, append);
    logger.debug(
      { eventId: row.id, type: row.type, clientId: row.clientId },
      "security event logged",
    );
    return { ...row, metadata: row.metadata as Record<string, unknown> };
  }

  /**
   * Returns one page of events with `start <= timestamp <= end`, in sequence order. Pass the
   * returned `nextCursor` as `options.cursor` to read the next page. It is null on the last page.
   */
  async getEvents(
    start: Date,
    end: Date,
    type?: EventType | null,
    options: EventQueryOptions = {},
  ): Promise<SecurityEventPage> {
    assertDate(start, "start");
    assertDate(end, "end");
    if (start.getTime() > end.getTime()) {
      throw new RangeError(
        `invalid range: start ${start.toISOString()} is after end ${end.toISOString()}`,
      );
    }
    if (type != null && !EVENT_TYPES.includes(type)) {
      throw new RangeError(
        `invalid event type "${type}", expected one of ${EVENT_TYPES.join(", ")}`,
      );
    }
    const severities = options.severity === undefined ? undefined : [options.severity].flat();
    for (const severity of severities ?? []) {
      if (!SEVERITIES.includes(severity)) {
        throw new RangeError(
          `invalid severity "${severity}", expected one of ${SEVERITIES.join(", ")}`,
        );
      }
    }
    const limit = options.limit ?? DEFAULT_EVENT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE_SIZE) {
      throw new RangeError(
        `invalid limit ${limit}, expected an integer from 1 to ${MAX_EVENT_PAGE_SIZE}`,
      );
    }
    const cursor = parseCursor(options.cursor);
    const order = options.order ?? "asc";
    if (order !== "asc" && order !== "desc") {
      throw new RangeError(`invalid order "${order}", expected "asc" or "desc"`);
    }

    const where: Prisma.SecurityEventWhereInput = {
      timestamp: { gte: start, lte: end },
      ...(type != null && { type }),
      ...(severities && { severity: { in: severities } }),
      ...(options.clientId !== undefined && { clientId: options.clientId }),
      ...(options.operatorId !== undefined && { operatorId: options.operatorId }),
      ...(cursor !== undefined && { sequence: order === "asc" ? { gt: cursor } : { lt: cursor } }),
    };
    // Reading one row past the limit shows whether another page follows.
    const rows = await this.prisma.securityEvent.findMany({
      where,
      orderBy: { sequence: order },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      events: page.map((row) => ({ ...row, metadata: row.metadata as Record<string, unknown> })),
      nextCursor: rows.length > limit ? page[page.length - 1].sequence : null,
    };
  }

  /**
   * Logs a client's authentication attempt (the earlier system's log_authentication_event). A
   * failure also increments the auth_failures_total counter.
   */
  async logAuthenticationEvent(
    clientId: string | null,
    success: boolean,
    details: Record<string, unknown> = {},
  ): Promise<SecurityEventRecord> {
    assertBoolean(success, "success");
    const row = await this.logEvent({
      type: "authentication",
      severity: success ? "low" : "medium",
      clientId,
      description: success
        ? `client ${clientId ?? "(unknown)"} authenticated`
        : `authentication failed for client ${clientId ?? "(unknown)"}`,
      metadata: { ...details, success },
    });
    if (!success) {
      await new MetricsCollector(this.prisma).incrementCounter(FL_METRICS.authFailuresTotal);
    }
    return row;
  }

  /** Logs a post-quantum operation such as encapsulate, decapsulate, sign or verify. */
  async logCryptographicEvent(
    operation: string,
    success: boolean,
    details: Record<string, unknown> = {},
  ): Promise<SecurityEventRecord> {
    assertNonEmpty(operation, "operation");
    assertBoolean(success, "success");
    const clientId = typeof details.clientId === "string" ? details.clientId : null;
    return this.logEvent({
      type: "cryptographic",
      severity: success ? "low" : "high",
      clientId,
      description: success ? `${operation} succeeded` : `${operation} failed`,
      metadata: { ...details, operation, success },
    });
  }

  /**
   * Logs the detector's verdict on a client's update. `score` is the anomaly score in [0, 1] and
   * `action` what was done about it (for example "flagged", "excluded", "quarantine").
   */
  async logAnomalyEvent(
    clientId: string,
    score: number,
    action: string,
    details: Record<string, unknown> = {},
  ): Promise<SecurityEventRecord> {
    assertNonEmpty(clientId, "clientId");
    if (typeof score !== "number" || !Number.isFinite(score) || score < 0 || score > 1) {
      throw new RangeError(`invalid anomaly score ${score}, expected a finite number in [0, 1]`);
    }
    assertNonEmpty(action, "action");
    const quarantine = /quarantin/i.test(action);
    return this.logEvent({
      type: "anomaly_detection",
      severity: quarantine || score >= HIGH_SEVERITY_ANOMALY_SCORE ? "high" : "medium",
      clientId,
      description: `anomalous update from client ${clientId} (score ${score.toFixed(3)}): ${action}`,
      metadata: { ...details, score, action },
    });
  }

  /** Logs an action taken by a dashboard operator, such as acknowledging an alert. */
  async logOperatorAction(
    operatorId: string,
    action: string,
    details: Record<string, unknown> = {},
    severity: Severity = "low",
  ): Promise<SecurityEventRecord> {
    assertNonEmpty(operatorId, "operatorId");
    assertNonEmpty(action, "action");
    const clientId = typeof details.clientId === "string" ? details.clientId : null;
    return this.logEvent({
      type: "operator_action",
      severity,
      operatorId,
      clientId,
      description: `operator ${operatorId}: ${action}`,
      metadata: { ...details, action },
    });
  }
}

export interface EventQueryOptions {
  severity?: Severity | Severity[];
  /** Only events of this client. Null selects events without a client. */
  clientId?: string | null;
  /** Only events of this operator. Null selects events without an operator. */
  operatorId?: string | null;
  /** The `nextCursor` of the previous page: a sequence number, exclusive. */
  cursor?: bigint | number | string | null;
  /** Page size, 1 to MAX_EVENT_PAGE_SIZE (default DEFAULT_EVENT_PAGE_SIZE). */
  limit?: number;
  /** "asc" (default) reads oldest first, "desc" newest first. */
  order?: "asc" | "desc";
}

export interface SecurityEventPage {
  events: SecurityEventRecord[];
  nextCursor: bigint | null;
}

function parseCursor(value: EventQueryOptions["cursor"]): bigint | undefined {
  if (value == null) return undefined;
  let cursor: bigint;
  try {
    cursor = BigInt(value);
  } catch {
    cursor = -1n;
  }
  if (cursor < 0n) {
    throw new RangeError(
      `invalid cursor ${JSON.stringify(String(value))}, expected a sequence number of at least 0`,
    );
  }
  return cursor;
}

function assertDate(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError(`invalid ${name} ${String(value)}, expected a valid Date`);
  }
}

function assertBoolean(value: boolean, name: string): void {
  if (typeof value !== "boolean") {
    throw new TypeError(`invalid ${name} ${String(value)}, expected a boolean`);
  }
}

function assertNonEmpty(value: string, name: string): void {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`invalid ${name} ${JSON.stringify(value)}, expected a non-empty string`);
  }
}
