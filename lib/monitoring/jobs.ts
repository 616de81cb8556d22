/**
 * The worker side of monitoring: the alert-evaluation job, the timer that requests it, the process
 * metrics sampler and the pruning of old metric samples.
 *
 * Every worker runs the timer, but it sends the job with pg-boss's throttling (one job per
 * alertEvaluationSeconds window across all workers), so rules are evaluated about once per
 * interval however many workers run. Each worker samples its own process, labelled with its
 * worker id.
 */
import type PgBoss from "pg-boss";
import type { AppConfig } from "../config";
import type { PrismaClient } from "../generated/prisma/client";
import { enqueueThrottled, parseJob, QUEUES } from "../jobs";
import { logger } from "../logger";
import { AlertManager } from "./alerts";
import { MetricsCollector } from "./metrics";
import { ProcessMetricsSampler } from "./process-metrics";

/** Metric samples older than this are deleted by the workers. */
export const METRIC_RETENTION_DAYS = 30;
const PRUNE_INTERVAL_MS = 3_600_000;

export interface MonitoringJobs {
  alertManager: AlertManager;
  sampler: ProcessMetricsSampler;
  stop(): Promise<void>;
}

/** Registers the monitoring job handler and starts this worker's monitoring timers. */
export async function registerMonitoringJobs(
  boss: PgBoss,
  prisma: PrismaClient,
  config: AppConfig,
  workerId = `worker-${process.pid}`,
): Promise<MonitoringJobs> {
  const alertManager = new AlertManager(prisma, { webhookUrl: config.monitoring.webhookUrl });
  const collector = new MetricsCollector(prisma);

  await boss.work(QUEUES.monitoringAlerts, { pollingIntervalSeconds: 2 }, async (jobs) => {
    for (const job of jobs) {
      const payload = parseJob(QUEUES.monitoringAlerts, job.data);
      const result = await alertManager.evaluateRules();
      logger.debug(
        {
          jobId: job.id,
          reason: payload.reason,
          federationId: payload.federationId,
          rules: result.rules.length,
          created: result.created.length,
          repeated: result.repeated.length,
          resolved: result.resolved.length,
        },
        "alert rules evaluated",
      );
    }
  });

  const evaluationSeconds = config.monitoring.alertEvaluationSeconds;
  const requestEvaluation = () => {
    enqueueThrottled(
      boss,
      QUEUES.monitoringAlerts,
      { requestedAt: new Date().toISOString(), reason: "schedule" },
      evaluationSeconds,
    ).catch((error) => logger.warn({ err: error, workerId }, "alert evaluation request failed"));
  };
  requestEvaluation();
  const evaluationTimer = setInterval(requestEvaluation, evaluationSeconds * 1000);
  evaluationTimer.unref();

  const sampler = new ProcessMetricsSampler(prisma, { worker: workerId });
  sampler.start(config.monitoring.sampleIntervalSeconds);

  const prune = () => {
    const before = new Date(Date.now() - METRIC_RETENTION_DAYS * 86_400_000);
    collector
      .pruneMetricHistory(before)
      .then((count) => {
        if (count > 0) logger.info({ count, before, workerId }, "old metric samples deleted");
      })
      .catch((error) => logger.warn({ err: error, workerId }, "metric pruning failed"));
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  logger.info(
    {
      workerId,
      alertEvaluationSeconds: evaluationSeconds,
      sampleIntervalSeconds: config.monitoring.sampleIntervalSeconds,
      webhook: config.monitoring.webhookUrl !== "",
    },
    "monitoring started",
  );
  return {
    alertManager,
    sampler,
    stop: async () => {
      clearInterval(evaluationTimer);
      clearInterval(pruneTimer);
      sampler.stop();
      await boss.offWork(QUEUES.monitoringAlerts);
    },
  };
}
