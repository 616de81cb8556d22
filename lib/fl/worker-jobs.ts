/**
 * The round jobs a worker runs: `update-received` checks quorum, `round-close` closes a round,
 * and a sweep every few seconds enqueues closes for rounds past their deadline or stalled.
 * Closes are enqueued with the round id as singleton key, so one round has at most one queued
 * close at a time; a duplicate that runs anyway finds the round published and does nothing.
 */
import type PgBoss from "pg-boss";
import { getServerKeys, parseMasterKey } from "../auth/server-keys";
import type { PrismaClient } from "../generated/prisma/client";
import { enqueue, parseJob, QUEUES } from "../jobs";
import { logger } from "../logger";
import { reachedQuorum, roundsToClose } from "./round-jobs";
import { type CloseReason, closeRound, type ModelEvaluator, type RoundServices } from "./rounds";

const SWEEP_INTERVAL_MS = 3_000;

export interface RoundJobOptions {
  evaluate?: ModelEvaluator;
  beforePublish?: RoundServices["beforePublish"];
  /** Called after every close, with its outcome (the monitoring alert check hooks in here). */
  afterClose?: (outcome: Awaited<ReturnType<typeof closeRound>>) => Promise<void>;
}

export async function enqueueRoundClose(
  boss: PgBoss,
  roundId: string,
  reason: CloseReason,
): Promise<void> {
  await enqueue(boss, QUEUES.roundClose, { roundId, reason }, { singletonKey: roundId });
}

export async function registerRoundJobs(
  boss: PgBoss,
  prisma: PrismaClient,
  options: RoundJobOptions = {},
): Promise<{ stop: () => Promise<void> }> {
  const masterKey = parseMasterKey(process.env.QSFL_MASTER_KEY);
  const services: RoundServices = {
    prisma,
    serverKeys: await getServerKeys(prisma, masterKey),
    evaluate: options.evaluate,
    beforePublish: options.beforePublish,
  };

  await boss.work(
    QUEUES.updateReceived,
    { pollingIntervalSeconds: 1, batchSize: 20 },
    async (jobs) => {
      const rounds = new Set(jobs.map((job) => parseJob(QUEUES.updateReceived, job.data).roundId));
      for (const roundId of rounds) {
        if (await reachedQuorum(prisma, roundId)) await enqueueRoundClose(boss, roundId, "quorum");
      }
    },
  );

  await boss.work(QUEUES.roundClose, { pollingIntervalSeconds: 1 }, async (jobs) => {
    for (const job of jobs) {
      const payload = parseJob(QUEUES.roundClose, job.data);
      const outcome = await closeRound(services, payload.roundId, payload.reason);
      logger.info(
        { jobId: job.id, ...payload, status: outcome.status, detail: outcome.detail },
        "round close job done",
      );
      if (options.afterClose) {
        await options
          .afterClose(outcome)
          .catch((error) =>
            logger.warn({ err: error, roundId: payload.roundId }, "after-close hook failed"),
          );
      }
    }
  });

  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    roundsToClose(prisma)
      .then(async (rounds) => {
        for (const { roundId, reason } of rounds) await enqueueRoundClose(boss, roundId, reason);
      })
      .catch((error) => logger.warn({ err: error }, "round sweep failed"))
      .finally(() => {
        sweeping = false;
      });
  }, SWEEP_INTERVAL_MS);

  return {
    stop: async () => {
      clearInterval(timer);
    },
  };
}
