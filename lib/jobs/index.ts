/**
 * Background jobs on pg-boss, so that web processes and worker processes on several machines share
 * one queue in the same PostgreSQL. Every queue has a zod schema for its payload; `enqueue`
 * validates before sending and workers validate again on receipt.
 */
import PgBoss from "pg-boss";
import { z } from "zod";
import { logger } from "../logger";

export const QUEUES = {
  ping: "system-ping",
  monitoringAlerts: "monitoring-evaluate-alerts",
  updateReceived: "update-received",
  roundClose: "round-close",
} as const;

export const jobPayloadSchemas = {
  [QUEUES.ping]: z
    .object({
      sentAt: z.iso.datetime(),
      origin: z.string().min(1).max(100),
    })
    .strict(),
  // Evaluates every alert rule. Workers send it on a timer, throttled to one job per interval,
  // and the rounds code may send it when a round closes.
  [QUEUES.monitoringAlerts]: z
    .object({
      requestedAt: z.iso.datetime(),
      reason: z.enum(["schedule", "round_close", "operator"]),
      federationId: z.string().min(1).max(200).optional(),
      roundNumber: z.number().int().min(0).optional(),
    })
    .strict(),
  // Sent by the web process for each accepted update, so a worker can close the round at quorum.
  [QUEUES.updateReceived]: z
    .object({
      updateId: z.uuid(),
      roundId: z.string().min(1),
    })
    .strict(),
  // Closes a round at quorum, at its deadline or on an operator's request; safe to retry.
  [QUEUES.roundClose]: z
    .object({
      roundId: z.string().min(1),
      reason: z.enum(["quorum", "deadline", "manual"]),
    })
    .strict(),
} satisfies Record<string, z.ZodType>;

export type QueueName = keyof typeof jobPayloadSchemas;
export type JobPayload<Q extends QueueName> = z.infer<(typeof jobPayloadSchemas)[Q]>;

export interface BossOptions {
  /** Run pg-boss maintenance and cron scheduling (true in workers, false in web processes). */
  supervise: boolean;
}

export async function startBoss(databaseUrl: string, options: BossOptions): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: databaseUrl,
    schema: "pgboss",
    supervise: options.supervise,
    schedule: options.supervise,
    max: 4,
  });
  boss.on("error", (error) => logger.error({ err: error }, "pg-boss error"));
  await boss.start();
  for (const name of Object.keys(jobPayloadSchemas)) await ensureQueue(boss, name);
  return boss;
}

// A round close that outlives this is presumed dead (its worker was killed) and retried.
const QUEUE_OPTIONS: Partial<Record<string, Omit<PgBoss.Queue, "name">>> = {
  "round-close": { retryLimit: 20, retryDelay: 2, retryBackoff: true, expireInSeconds: 60 },
};

const DEADLOCK = "40P01";

// Two processes creating the same queue at once can deadlock inside pg-boss's create_queue, and
// PostgreSQL then aborts one of them. Creating is idempotent, so the aborted one retries.
async function ensureQueue(boss: PgBoss, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await boss.getQueue(name)) return;
    try {
      await boss.createQueue(name, {
        name,
        retryLimit: 5,
        retryDelay: 2,
        retryBackoff: true,
        ...QUEUE_OPTIONS[name],
      });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= 5) throw error;
      logger.debug(
        { queue: name, attempt },
        "queue creation deadlocked with another process; retrying",
      );
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200 * attempt));
    }
  }
}

export async function enqueue<Q extends QueueName>(
  boss: PgBoss,
  queue: Q,
  payload: JobPayload<Q>,
  options: PgBoss.SendOptions = {},
): Promise<string | null> {
  const data = jobPayloadSchemas[queue].parse(payload);
  return boss.send(queue, data, options);
}

/** Sends at most one job per `seconds` window for this queue, however often it is called. */
export async function enqueueThrottled<Q extends QueueName>(
  boss: PgBoss,
  queue: Q,
  payload: JobPayload<Q>,
  seconds: number,
): Promise<string | null> {
  const data = jobPayloadSchemas[queue].parse(payload);
  return boss.sendThrottled(queue, data, {}, seconds);
}

/** Parses a received job's data, throwing (so pg-boss retries or fails it) when it is invalid. */
export function parseJob<Q extends QueueName>(queue: Q, data: unknown): JobPayload<Q> {
  const result = jobPayloadSchemas[queue].safeParse(data);
  if (!result.success) {
    throw new Error(
      `invalid ${queue} job payload: ${result.error.issues[0]?.message ?? "unknown"}`,
    );
  }
  return result.data as JobPayload<Q>;
}
