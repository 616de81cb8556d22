/**
 * Worker liveness for /api/health: each worker process upserts a heartbeat row every few seconds,
 * and records when it handled a ping job sent by a web process (the queue round trip).
 */
import { hostname } from "node:os";
import type { PrismaClient } from "../generated/prisma/client";

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A worker whose last beat is older than this is counted as gone. */
export const HEARTBEAT_STALE_MS = 30_000;

export async function beat(prisma: PrismaClient, workerId: string): Promise<void> {
  const now = new Date();
  await prisma.workerHeartbeat.upsert({
    where: { id: workerId },
    create: {
      id: workerId,
      hostname: hostname(),
      pid: process.pid,
      startedAt: now,
      lastBeatAt: now,
    },
    update: { lastBeatAt: now, stoppedAt: null },
  });
}

export async function markStopped(prisma: PrismaClient, workerId: string): Promise<void> {
  await prisma.workerHeartbeat.updateMany({
    where: { id: workerId },
    data: { stoppedAt: new Date() },
  });
}

export async function recordPing(
  prisma: PrismaClient,
  workerId: string,
  sentAt: Date,
): Promise<void> {
  await prisma.workerHeartbeat.update({
    where: { id: workerId },
    data: { lastPingSentAt: sentAt, lastPingHandledAt: new Date() },
  });
}

export interface HealthReport {
  status: "ok" | "degraded";
  database: { ok: boolean; latencyMs?: number; error?: string };
  workers: {
    ok: boolean;
    alive: number;
    lastBeatAt: string | null;
    lastJobRoundTripMs: number | null;
    lastJobHandledAt: string | null;
  };
  time: string;
}

export async function checkHealth(prisma: PrismaClient): Promise<HealthReport> {
  const now = Date.now();
  const report: HealthReport = {
    status: "degraded",
    database: { ok: false },
    workers: {
      ok: false,
      alive: 0,
      lastBeatAt: null,
      lastJobRoundTripMs: null,
      lastJobHandledAt: null,
    },
    time: new Date(now).toISOString(),
  };
  try {
    const started = performance.now();
    await prisma.$queryRaw`SELECT 1`;
    report.database = { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    report.database = { ok: false, error: (error as Error).message.split("\n")[0] };
    return report;
  }
  const beats = await prisma.workerHeartbeat.findMany({
    where: { stoppedAt: null, lastBeatAt: { gte: new Date(now - HEARTBEAT_STALE_MS) } },
    orderBy: { lastBeatAt: "desc" },
  });
  const lastPing = await prisma.workerHeartbeat.findFirst({
    where: { lastPingHandledAt: { not: null } },
    orderBy: { lastPingHandledAt: "desc" },
  });
  report.workers = {
    ok: beats.length > 0,
    alive: beats.length,
    lastBeatAt: beats[0]?.lastBeatAt.toISOString() ?? null,
    lastJobRoundTripMs:
      lastPing?.lastPingHandledAt && lastPing.lastPingSentAt
        ? lastPing.lastPingHandledAt.getTime() - lastPing.lastPingSentAt.getTime()
        : null,
    lastJobHandledAt: lastPing?.lastPingHandledAt?.toISOString() ?? null,
  };
  report.status = report.database.ok && report.workers.ok ? "ok" : "degraded";
  return report;
}
