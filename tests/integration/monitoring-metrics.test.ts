import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { FL_METRICS, MetricsCollector, PROCESS_METRICS } from "@/lib/monitoring/metrics";
import { ProcessMetricsSampler } from "@/lib/monitoring/process-metrics";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let prisma: PrismaClient;
let metrics: MetricsCollector;

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  metrics = new MetricsCollector(prisma);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

const t0 = new Date("2026-05-01T00:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("MetricsCollector.recordMetric", () => {
  it("stores a sample with sorted labels", async () => {
    await metrics.recordMetric("test_record", 3.5, at(0), { zone: "b", app: "a" });
    const row = await prisma.metricPoint.findFirstOrThrow({ where: { name: "test_record" } });
    expect(row.value).toBe(3.5);
    expect(row.timestamp.toISOString()).toBe(t0.toISOString());
    expect(row.labels).toEqual({ app: "a", zone: "b" });
  });

  it("rejects invalid names, values and labels", async () => {
    await expect(metrics.recordMetric("9lives", 1)).rejects.toThrow(/invalid metric name "9lives"/);
    await expect(metrics.recordMetric("has-dash", 1)).rejects.toThrow(/invalid metric name/);
    await expect(metrics.recordMetric("ok_name", Number.NaN)).rejects.toThrow(
      /invalid value for metric ok_name NaN, expected a finite number/,
    );
    await expect(metrics.recordMetric("ok_name", Number.POSITIVE_INFINITY)).rejects.toThrow(
      /Infinity/,
    );
    await expect(metrics.recordMetric("ok_name", 1, undefined, { "bad-key": "x" })).rejects.toThrow(
      /invalid label name "bad-key"/,
    );
    await expect(
      metrics.recordMetric("ok_name", 1, undefined, { __reserved: "x" }),
    ).rejects.toThrow(/invalid label name "__reserved"/);
    await expect(
      metrics.recordMetric("ok_name", 1, undefined, { n: 5 as unknown as string }),
    ).rejects.toThrow(/invalid value 5 for label "n", expected a string/);
    expect(await prisma.metricPoint.count({ where: { name: "ok_name" } })).toBe(0);
  });

  it("accepts colons in names", async () => {
    await metrics.recordMetric("job:latency:avg", 2);
    expect(await prisma.metricPoint.count({ where: { name: "job:latency:avg" } })).toBe(1);
  });
});

describe("MetricsCollector.getMetricHistory", () => {
  const name = "test_history";

  beforeAll(async () => {
    // Two series of 1000 samples, one per second: value i and 10 * i.
    const samples = [];
    for (let i = 0; i < 1000; i++) {
      samples.push({ name, value: i, timestamp: at(i * 1000), labels: { series: "a" } });
      samples.push({ name, value: 10 * i, timestamp: at(i * 1000), labels: { series: "b" } });
    }
    await metrics.recordMetrics(samples);
  });

  it("returns raw points for a short range", async () => {
    const history = await metrics.getMetricHistory(name, at(10_000), at(19_000), {
      maxPoints: 50,
      labels: { series: "a" },
    });
    expect(history.bucketMs).toBeNull();
    expect(history.series).toHaveLength(1);
    const points = history.series[0].points;
    expect(points.map((p) => p.value)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(points[0].timestamp.toISOString()).toBe(at(10_000).toISOString());
    expect(points.every((p) => p.count === 1 && p.min === p.value && p.max === p.value)).toBe(true);
  });

  it("downsamples a long range to bounded buckets", async () => {
    const start = at(0);
    const end = at(999_000);
    const maxPoints = 10;
    const history = await metrics.getMetricHistory(name, start, end, { maxPoints });

    expect(history.bucketMs).toBe(Math.floor(999_000 / maxPoints) + 1);
    expect(history.series.map((s) => s.labels)).toEqual([{ series: "a" }, { series: "b" }]);
    const width = history.bucketMs as number;
    for (const [index, series] of history.series.entries()) {
      const scale = index === 0 ? 1 : 10;
      expect(series.points.length).toBeLessThanOrEqual(maxPoints);
      expect(series.points.reduce((sum, p) => sum + p.count, 0)).toBe(1000);
      for (const point of series.points) {
        const bucket = Math.floor((point.timestamp.getTime() - start.getTime()) / width);
        const members = [];
        for (let i = 0; i < 1000; i++) {
          if (Math.floor((i * 1000) / width) === bucket) members.push(i * scale);
        }
        const mean = members.reduce((a, b) => a + b, 0) / members.length;
        expect(point.timestamp.getTime()).toBe(start.getTime() + bucket * width);
        expect(point.count).toBe(members.length);
        expect(point.value).toBeCloseTo(mean, 9);
        expect(point.min).toBe(Math.min(...members));
        expect(point.max).toBe(Math.max(...members));
      }
    }
  });

  it("keeps maxPoints when the range divides evenly", async () => {
    const history = await metrics.getMetricHistory(name, at(0), at(999_000), {
      maxPoints: 3,
      labels: { series: "b" },
    });
    expect(history.series).toHaveLength(1);
    expect(history.series[0].points).toHaveLength(3);
    expect(history.series[0].points.reduce((s, p) => s + p.count, 0)).toBe(1000);
  });

  it("excludes samples outside the range", async () => {
    const history = await metrics.getMetricHistory(name, at(998_000), at(2_000_000), {
      labels: { series: "a" },
    });
    expect(history.series[0].points.map((p) => p.value)).toEqual([998, 999]);
    const none = await metrics.getMetricHistory(name, at(-5_000), at(-1));
    expect(none.series).toEqual([]);
  });

  it("rejects invalid ranges and bounds", async () => {
    await expect(metrics.getMetricHistory(name, at(5), at(1))).rejects.toThrow(/is after end/);
    await expect(metrics.getMetricHistory(name, at(0), at(1), { maxPoints: 0 })).rejects.toThrow(
      /invalid maxPoints 0/,
    );
    await expect(metrics.getMetricHistory("bad name", at(0), at(1))).rejects.toThrow(
      /invalid metric name/,
    );
  });
});

describe("counters and round metrics", () => {
  it("counts every concurrent increment", async () => {
    const other = createPrismaClient(database.url);
    try {
      const collectors = [metrics, new MetricsCollector(other)];
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          collectors[i % 2].incrementCounter("test_increments_total", 1, { kind: "x" }),
        ),
      );
    } finally {
      await other.$disconnect();
    }
    const [latest] = await metrics.getLatestValues({ names: ["test_increments_total"] });
    expect(latest.value).toBe(20);
    expect(latest.labels).toEqual({ kind: "x" });
  });

  it("recordRoundMetrics accumulates counters once per round", async () => {
    const base = {
      federationId: "fed-1",
      durationSeconds: 12.5,
      quarantined: 1,
      testAccuracy: 0.91,
      testLoss: 0.3,
    };
    expect(
      await metrics.recordRoundMetrics({
        ...base,
        roundNumber: 1,
        accepted: 8,
        rejected: 2,
        anomalies: 2,
        timestamp: at(0),
      }),
    ).toBe(true);
    expect(
      await metrics.recordRoundMetrics({
        ...base,
        roundNumber: 2,
        accepted: 9,
        rejected: 1,
        anomalies: 1,
        quarantined: 2,
        timestamp: at(60_000),
      }),
    ).toBe(true);
    // A retried close of round 2 stores nothing.
    expect(
      await metrics.recordRoundMetrics({
        ...base,
        roundNumber: 2,
        accepted: 9,
        rejected: 1,
        anomalies: 1,
        timestamp: at(61_000),
      }),
    ).toBe(false);

    const latest = await metrics.getLatestValues({
      names: Object.values(FL_METRICS),
      labels: { federation_id: "fed-1" },
    });
    const value = (name: string) => latest.find((l) => l.name === name)?.value;
    expect(value(FL_METRICS.updatesAcceptedTotal)).toBe(17);
    expect(value(FL_METRICS.updatesRejectedTotal)).toBe(3);
    expect(value(FL_METRICS.anomaliesDetectedTotal)).toBe(3);
    expect(value(FL_METRICS.quarantinedClients)).toBe(2);
    expect(value(FL_METRICS.roundDurationSeconds)).toBe(12.5);
    expect(value(FL_METRICS.testAccuracy)).toBe(0.91);
    expect(value(FL_METRICS.roundNumber)).toBe(2);
    expect(latest.every((l) => l.labels.federation_id === "fed-1")).toBe(true);
  });

  it("recordRoundMetrics rejects invalid input", async () => {
    const valid = {
      federationId: "fed-2",
      roundNumber: 1,
      durationSeconds: 1,
      accepted: 1,
      rejected: 0,
      anomalies: 0,
      quarantined: 0,
    };
    await expect(metrics.recordRoundMetrics({ ...valid, accepted: -1 })).rejects.toThrow(
      /invalid accepted -1, expected a non-negative integer/,
    );
    await expect(metrics.recordRoundMetrics({ ...valid, federationId: "" })).rejects.toThrow(
      /invalid federationId ""/,
    );
    await expect(
      metrics.recordRoundMetrics({ ...valid, testAccuracy: Number.NaN }),
    ).rejects.toThrow(/invalid testAccuracy NaN/);
  });
});

describe("ProcessMetricsSampler", () => {
  it("records process and database samples", async () => {
    const sampler = new ProcessMetricsSampler(prisma, { worker: "test-worker" });
    try {
      // Some CPU work so the first interval has CPU time to report.
      let x = 0;
      for (let i = 0; i < 2_000_000; i++) x += Math.sqrt(i);
      expect(x).toBeGreaterThan(0);
      const stored = await sampler.recordSample(at(5_000_000));
      expect(stored).toBeGreaterThanOrEqual(10);
    } finally {
      sampler.stop();
    }
    const rows = await prisma.metricPoint.findMany({ where: { timestamp: at(5_000_000) } });
    const byName = (name: string) => rows.filter((r) => r.name === name);
    expect(byName(PROCESS_METRICS.residentMemoryBytes)[0].value).toBeGreaterThan(10_000_000);
    expect(byName(PROCESS_METRICS.heapUsedBytes)[0].value).toBeGreaterThan(0);
    expect(byName(PROCESS_METRICS.cpuPercent)[0].value).toBeGreaterThan(0);
    expect(byName(PROCESS_METRICS.eventLoopLagSeconds)[0].value).toBeGreaterThanOrEqual(0);
    expect(byName(PROCESS_METRICS.databasePingSeconds)[0].value).toBeGreaterThan(0);
    const active = byName(PROCESS_METRICS.databaseConnections).find(
      (r) => (r.labels as Record<string, string>).state === "active",
    );
    // The sampler's own pg_stat_activity query is an active connection.
    expect(active?.value).toBeGreaterThanOrEqual(1);
    expect(rows.every((r) => (r.labels as Record<string, string>).worker === "test-worker")).toBe(
      true,
    );
  });
});

describe("MetricsCollector.pruneMetricHistory", () => {
  it("deletes only samples older than the cutoff", async () => {
    await metrics.recordMetric("test_prune", 1, new Date("2000-01-01T00:00:00Z"));
    await metrics.recordMetric("test_prune", 2, new Date("2000-01-03T00:00:00Z"));
    const deleted = await metrics.pruneMetricHistory(new Date("2000-01-02T00:00:00Z"));
    expect(deleted).toBe(1);
    const left = await prisma.metricPoint.findMany({ where: { name: "test_prune" } });
    expect(left.map((r) => r.value)).toEqual([2]);
  });
});
