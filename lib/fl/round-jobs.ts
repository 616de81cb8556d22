/**
 * Decisions behind the round jobs: when an accepted update brings a round to quorum, and which
 * rounds a periodic sweep must close (deadline passed) or retry (a close that stalled, because
 * its worker died and the job has not been retried yet).
 */
import type { PrismaClient } from "../generated/prisma/client";
import type { CloseReason } from "./rounds";

/** A close stuck in `aggregating` for longer than this is enqueued again by the sweep. */
export const STALLED_CLOSE_MS = 90_000;

/** Returns true when the round is still collecting and has at least `quorum` updates. */
export async function reachedQuorum(prisma: PrismaClient, roundId: string): Promise<boolean> {
  const round = await prisma.round.findUnique({
    where: { id: roundId },
    select: { status: true, quorum: true },
  });
  if (!round || (round.status !== "open" && round.status !== "collecting")) return false;
  const count = await prisma.modelUpdate.count({ where: { roundId } });
  return count >= round.quorum;
}

export async function roundsToClose(
  prisma: PrismaClient,
  now = new Date(),
): Promise<{ roundId: string; reason: CloseReason }[]> {
  const overdue = await prisma.round.findMany({
    where: {
      status: { in: ["open", "collecting"] },
      deadline: { lte: now },
      federation: { status: "running" },
    },
    select: { id: true },
  });
  const stalled = await prisma.round.findMany({
    where: {
      status: "aggregating",
      updatedAt: { lte: new Date(now.getTime() - STALLED_CLOSE_MS) },
    },
    select: { id: true },
  });
  const unfinalized = await prisma.round.findMany({
    where: { status: { in: ["published", "failed"] }, finalizedAt: null },
    select: { id: true },
  });
  return [
    ...overdue.map((r) => ({ roundId: r.id, reason: "deadline" as const })),
    ...stalled.map((r) => ({ roundId: r.id, reason: "deadline" as const })),
    ...unfinalized.map((r) => ({ roundId: r.id, reason: "manual" as const })),
  ];
}
