/**
 * Verification of the security event hash chain.
 *
 * The walk goes in sequence order, a batch at a time, and checks two things per row. Its
 * `prevHash` must equal the hash of the row before it (GENESIS_HASH for the first row). Its `hash`
 * must equal the hash recomputed from its content. An edited row fails the second check. A
 * deleted row makes the next row fail the first check. Sequence numbers are not a check: a
 * rolled-back insert consumes a sequence value, so gaps are normal and only counted.
 *
 * Limit: deleting the newest rows leaves a shorter chain that is still valid. Only a copy of the
 * head hash kept elsewhere (the `headHash` that a run returns) exposes that.
 */
import type { PrismaClient, SecurityEvent } from "../generated/prisma/client";
import { computeEventHash, GENESIS_HASH } from "./security-events";

export const DEFAULT_VERIFY_BATCH_SIZE = 1000;

export type ChainBreakKind = "hash_mismatch" | "broken_link";

export type ChainVerification =
  | {
      ok: true;
      /** Number of rows verified: all of them. */
      count: number;
      /** Sequence and hash of the newest row, or null for an empty log. */
      headSequence: bigint | null;
      headHash: string;
      /** Number of missing sequence values between rows (normal after rolled-back inserts). */
      sequenceGaps: number;
    }
  | {
      ok: false;
      /** Number of rows verified before the first broken one. */
      count: number;
      firstBrokenSequence: bigint;
      kind: ChainBreakKind;
      reason: string;
      sequenceGaps: number;
    };

export interface VerifyChainOptions {
  /** Rows read per query (default DEFAULT_VERIFY_BATCH_SIZE). */
  batchSize?: number;
  /** Called after each batch with the number of rows verified so far. */
  onProgress?: (count: number) => void;
}

/** Walks the whole security event chain and returns the first row that breaks it, if any. */
export async function verifyChain(
  prisma: PrismaClient,
  options: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const batchSize = options.batchSize ?? DEFAULT_VERIFY_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`invalid batchSize ${batchSize}, expected a positive integer`);
  }

  let count = 0;
  let sequenceGaps = 0;
  let previousHash = GENESIS_HASH;
  let previousSequence: bigint | null = null;
  for (;;) {
    const rows: SecurityEvent[] = await prisma.securityEvent.findMany({
      where: previousSequence === null ? {} : { sequence: { gt: previousSequence } },
      orderBy: { sequence: "asc" },
      take: batchSize,
    });
    for (const row of rows) {
      if (row.prevHash !== previousHash) {
        const reason =
          previousSequence === null
            ? `the first row's prevHash is ${row.prevHash}, expected the genesis hash, so rows ` +
              "before it were deleted"
            : `prevHash ${row.prevHash} does not match the hash ${previousHash} of row ` +
              `${previousSequence}, so a row between them was deleted or inserted`;
        return {
          ok: false,
          count,
          firstBrokenSequence: row.sequence,
          kind: "broken_link",
          reason,
          sequenceGaps,
        };
      }
      const recomputed = computeEventHash(row.prevHash, {
        ...row,
        metadata: row.metadata as Record<string, unknown>,
      });
      if (recomputed !== row.hash) {
        return {
          ok: false,
          count,
          firstBrokenSequence: row.sequence,
          kind: "hash_mismatch",
          reason: `stored hash ${row.hash} does not match the recomputed ${recomputed}, so the row's content was changed`,
          sequenceGaps,
        };
      }
      if (previousSequence !== null && row.sequence > previousSequence + 1n) {
        sequenceGaps += Number(row.sequence - previousSequence - 1n);
      }
      previousHash = row.hash;
      previousSequence = row.sequence;
      count += 1;
    }
    options.onProgress?.(count);
    if (rows.length < batchSize) break;
  }
  return { ok: true, count, headSequence: previousSequence, headHash: previousHash, sequenceGaps };
}
