/**
 * The security event log: append-only and hash-chained.
 *
 * Each row stores `prevHash`, the hash of the row before it (64 zeros for the first), and `hash` =
 * SHA-256(prevHash + "\n" + canonical content), where the canonical content is the JSON of the
 * event's fields with object keys sorted. Editing, inserting or deleting a row breaks the chain
 * at that row. Writers serialise on a transaction-scoped advisory lock, and `prevHash` is unique in
 * the database, so concurrent writers in several processes can never fork the chain.
 */
import { createHash, randomUUID } from "node:crypto";
import type { EventType, PrismaClient, Severity } from "../generated/prisma/client";
import { logger } from "../logger";

export const GENESIS_HASH = "0".repeat(64);
const CHAIN_LOCK_KEY = 0x51534c; // "QSL"

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
    const row = await this.prisma.$transaction(async (tx) => {
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
    });
    logger.debug(
      { eventId: row.id, type: row.type, clientId: row.clientId },
      "security event logged",
    );
    return { ...row, metadata: row.metadata as Record<string, unknown> };
  }
}
