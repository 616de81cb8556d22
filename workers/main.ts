/**
 * The worker process: consumes pg-boss queues and beats a heartbeat row. Handlers stay thin and
 * call lib/. Started by `npm start` next to the web server, or alone with `npm run worker`.
 */
import { randomUUID } from "node:crypto";
import { getConfig, homeDir } from "@/lib/config";
import { createPrismaClient } from "@/lib/db";
import { migrate } from "@/lib/db/migrate";
import { resolveDatabase } from "@/lib/db/resolve";
import { createServerEvaluator } from "@/lib/fl/evaluation";
import { registerRoundJobs } from "@/lib/fl/worker-jobs";
import { parseJob, QUEUES, startBoss } from "@/lib/jobs";
import { logger } from "@/lib/logger";
import { registerMonitoringJobs } from "@/lib/monitoring/jobs";
import { beat, HEARTBEAT_INTERVAL_MS, markStopped, recordPing } from "@/lib/system/heartbeat";
import { loadOrCreateSecrets } from "@/lib/system/secrets";
import { installSignalHandlers, onShutdown } from "@/lib/system/shutdown";

async function main(): Promise<void> {
  installSignalHandlers();
  const config = getConfig();
  // A worker started alone (npm run worker) reads the same generated secrets as npm start.
  process.env.QSFL_MASTER_KEY ??= loadOrCreateSecrets(homeDir(config)).masterKey;
  const database = await resolveDatabase(config);
  if (database.embedded?.owned) onShutdown("embedded database", database.embedded.stop);
  await migrate(database.url);

  const prisma = createPrismaClient(database.url);
  onShutdown("prisma", () => prisma.$disconnect());

  const workerId = `${process.env.QSFL_WORKER_NAME ?? "worker"}-${randomUUID().slice(0, 8)}`;
  await beat(prisma, workerId);
  const timer = setInterval(() => {
    beat(prisma, workerId).catch((error) =>
      logger.warn({ err: error, workerId }, "heartbeat failed"),
    );
  }, HEARTBEAT_INTERVAL_MS);
  onShutdown("heartbeat", async () => {
    clearInterval(timer);
    await markStopped(prisma, workerId);
  });

  const boss = await startBoss(database.url, { supervise: true });
  onShutdown("pg-boss", () => boss.stop({ graceful: true, timeout: 5_000, wait: true }));

  await boss.work(QUEUES.ping, { pollingIntervalSeconds: 1 }, async (jobs) => {
    for (const job of jobs) {
      const payload = parseJob(QUEUES.ping, job.data);
      await recordPing(prisma, workerId, new Date(payload.sentAt));
      logger.debug({ jobId: job.id, origin: payload.origin }, "ping job handled");
    }
  });
  onShutdown("monitoring", (await registerMonitoringJobs(boss, prisma, config, workerId)).stop);
  // Fault injection for the resilience tests: hold each round close just before its commit so a
  // test can kill this worker there. Never set in production.
  const pauseMs = Number(process.env.QSFL_FAULT_PAUSE_BEFORE_PUBLISH_MS ?? 0);
  const beforePublish =
    pauseMs > 0
      ? async (roundId: string) => {
          logger.warn({ roundId, pauseMs }, "fault injection: pausing before publishing the round");
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
      : undefined;
  const roundJobs = await registerRoundJobs(boss, prisma, {
    evaluate: await createServerEvaluator(),
    beforePublish,
  });
  onShutdown("rounds", roundJobs.stop);

  logger.info({ workerId }, "worker started");
}

main().catch((error) => {
  logger.fatal({ err: error }, "worker failed to start");
  process.exit(1);
});
