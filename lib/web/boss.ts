/**
 * The web process's pg-boss instance: it only sends jobs, so maintenance and scheduling stay off
 * and are left to the workers.
 */
import type PgBoss from "pg-boss";
import { getDatabaseUrl } from "../db";
import { startBoss } from "../jobs";

const globalForBoss = globalThis as unknown as { qsflBoss?: Promise<PgBoss> };

export function getWebBoss(): Promise<PgBoss> {
  globalForBoss.qsflBoss ??= startBoss(getDatabaseUrl(), { supervise: false }).catch((error) => {
    globalForBoss.qsflBoss = undefined;
    throw error;
  });
  return globalForBoss.qsflBoss;
}

/** Stops the web process's pg-boss instance, if one was started (tests and shutdown). */
export async function stopWebBoss(): Promise<void> {
  const pending = globalForBoss.qsflBoss;
  globalForBoss.qsflBoss = undefined;
  if (pending) await (await pending.catch(() => undefined))?.stop({ graceful: false, wait: true });
}
