/**
 * Interactive transactions that wait on a PostgreSQL advisory lock (the event chain, counters,
 * alert fingerprints), and joining a caller's transaction instead of opening a nested one.
 */
import type { Prisma, PrismaClient } from "../generated/prisma/client";

/**
 * Returns fresh options for such a transaction. The lock wait counts toward Prisma's interactive
 * transaction timeout, 5 s by default, which writers queued behind many others on a loaded
 * machine exceed. A new object every call, because Prisma 7 writes the transaction id into the
 * options object it is given, and a shared object would make every later transaction reuse an
 * id that is already closed (P2028 "Transaction already closed").
 */
export function lockedTransactionOptions(): { maxWait: number; timeout: number } {
  return { maxWait: 10_000, timeout: 30_000 };
}

/**
 * Returns whether `client` is an interactive transaction client rather than a PrismaClient. Prisma 7
 * gives transaction clients a `$transaction` of their own but no `$disconnect`.
 */
export function isTransactionClient(client: PrismaClient | Prisma.TransactionClient): boolean {
  return typeof (client as { $disconnect?: unknown }).$disconnect !== "function";
}

/** Runs `body` in the caller's transaction when given one, otherwise in a new locked one. */
export function inLockedTransaction<T>(
  client: PrismaClient | Prisma.TransactionClient,
  body: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  if (isTransactionClient(client)) return body(client as Prisma.TransactionClient);
  return (client as PrismaClient).$transaction(body, lockedTransactionOptions());
}
