import type PgBoss from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "@/lib/config";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { startBoss } from "@/lib/jobs";
import { AlertManager } from "@/lib/monitoring/alerts";
import { type MonitoringJobs, registerMonitoringJobs } from "@/lib/monitoring/jobs";
import { MetricsCollector, PROCESS_METRICS } from "@/lib/monitoring/metrics";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { waitFor } from "../helpers/processes";

let database: TestDatabase;
let prisma: PrismaClient;
let boss: PgBoss;
let jobs: MonitoringJobs | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  boss = await startBoss(database.url, { supervise: true });
});

afterAll(async () => {
  await jobs?.stop();
  await boss?.stop({ graceful: false, wait: true });
  await prisma?.$disconnect();
  await database?.drop();
});

describe("registerMonitoringJobs", () => {
  it("evaluates rules through pg-boss and samples the worker", async () => {
    const rule = await new AlertManager(prisma, { notifier: null }).configureThreshold(
      "jobs_test_backlog",
      10,
      "high",
    );
    await new MetricsCollector(prisma).recordMetric("jobs_test_backlog", 25);
    const config = parseConfig({
      monitoring: { alertEvaluationSeconds: 1, sampleIntervalSeconds: 1, webhookUrl: "" },
    });

    jobs = await registerMonitoringJobs(boss, prisma, config, "jobs-test-worker");

    const alert = await waitFor(
      "the rule's alert",
      async () => (await prisma.alert.findFirst({ where: { ruleId: rule.id } })) ?? undefined,
      20_000,
    );
    expect(alert.state).toBe("open");
    expect(alert.value).toBe(25);
    const samples = await waitFor(
      "a process sample",
      async () => {
        const rows = await prisma.metricPoint.findMany({
          where: { name: PROCESS_METRICS.residentMemoryBytes },
        });
        return rows.length > 0 ? rows : undefined;
      },
      10_000,
    );
    expect(samples[0].labels).toEqual({ worker: "jobs-test-worker" });
    // The handler creates the alert before pg-boss marks its job completed.
    const completed = await waitFor(
      "a completed evaluation job",
      async () => {
        const rows = await prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pgboss.job
          WHERE name = 'monitoring-evaluate-alerts' AND state = 'completed'`;
        return rows[0].n > 0 ? rows[0].n : undefined;
      },
      10_000,
    );
    expect(completed).toBeGreaterThanOrEqual(1);
  });
});
