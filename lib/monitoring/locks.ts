/**
 * Options for Prisma interactive transactions that wait on a PostgreSQL advisory lock (the event
 * chain, counters, alert fingerprints). The wait counts toward Prisma's interactive transaction
 * timeout, 5 s by default, which writers queued behind many others on a loaded machine exceed.
 */
export const LOCKED_TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 30_000 } as const;
