/**
 * Samples a worker's own process and its database into MetricPoint rows on a timer.
 *
 * - CPU percent is user plus system CPU time over wall time since the previous sample, so a
 *   process busy on several threads can exceed 100.
 * - Event-loop lag comes from perf_hooks.monitorEventLoopDelay, whose histogram is reset after
 *   each sample, so each sample covers one interval.
 * - The database part counts this database's connections by state in pg_stat_activity and times
 *   a SELECT 1. Prisma's driver adapter does not expose its pool, so these are database-wide
 *   figures. When the database cannot be reached, sampleDatabase returns nothing, and storing the
 *   sample fails too. Both failures are logged once and then every 20th time until they stop.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { PrismaClient } from "../generated/prisma/client";
import { logger } from "../logger";
import {
  type MetricLabels,
  type MetricSample,
  MetricsCollector,
  normalizeLabels,
  PROCESS_METRICS,
} from "./metrics";

const LOG_EVERY_NTH_FAILURE = 20;

export class ProcessMetricsSampler {
  private readonly histogram: IntervalHistogram;
  private readonly collector: MetricsCollector;
  private readonly labels: MetricLabels;
  private lastCpu = process.cpuUsage();
  private lastWallMs = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private databaseFailures = 0;
  private recordFailures = 0;

  constructor(
    private readonly prisma: PrismaClient,
    labels: MetricLabels,
  ) {
    this.labels = normalizeLabels(labels);
    this.collector = new MetricsCollector(prisma);
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
  }

  /** Samples every `intervalSeconds` until stop(). The timer does not keep the process alive. */
  start(intervalSeconds: number): void {
    if (!Number.isFinite(intervalSeconds) || intervalSeconds <= 0) {
      throw new RangeError(
        `invalid intervalSeconds ${intervalSeconds}, expected a positive number`,
      );
    }
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.recordSample();
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.histogram.disable();
  }

  /** Takes one sample and stores it, logging failures instead of throwing. Returns the rows stored. */
  async recordSample(now: Date = new Date()): Promise<number> {
    try {
      const samples = [...this.sampleProcess(now), ...(await this.sampleDatabase(now))];
      const count = await this.collector.recordMetrics(samples);
      this.recordFailures = 0;
      return count;
    } catch (error) {
      this.recordFailures += 1;
      if (this.recordFailures % LOG_EVERY_NTH_FAILURE === 1) {
        logger.warn(
          { err: error, labels: this.labels, failures: this.recordFailures },
          "could not store process metrics",
        );
      }
      return 0;
    }
  }

  /** Returns the process figures since the previous call. */
  sampleProcess(now: Date = new Date()): MetricSample[] {
    const wallMs = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = wallMs - this.lastWallMs;
    this.lastCpu = process.cpuUsage();
    this.lastWallMs = wallMs;
    const cpuPercent = elapsedMs > 0 ? ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100 : 0;

    const memory = process.memoryUsage();
    // The histogram's mean is NaN before it has recorded a delay.
    const meanLag = Number.isFinite(this.histogram.mean) ? this.histogram.mean / 1e9 : 0;
    const p99Lag = this.histogram.count > 0 ? this.histogram.percentile(99) / 1e9 : 0;
    this.histogram.reset();

    const sample = (name: string, value: number): MetricSample => ({
      name,
      value,
      timestamp: now,
      labels: this.labels,
    });
    return [
      sample(PROCESS_METRICS.cpuPercent, cpuPercent),
      sample(PROCESS_METRICS.residentMemoryBytes, memory.rss),
      sample(PROCESS_METRICS.heapUsedBytes, memory.heapUsed),
      sample(PROCESS_METRICS.heapTotalBytes, memory.heapTotal),
      sample(PROCESS_METRICS.eventLoopLagSeconds, meanLag),
      sample(PROCESS_METRICS.eventLoopLagP99Seconds, p99Lag),
    ];
  }

  /** Returns database connection counts and ping time, or nothing when it is unreachable. */
  async sampleDatabase(now: Date = new Date()): Promise<MetricSample[]> {
    try {
      const started = performance.now();
      await this.prisma.$queryRaw`SELECT 1`;
      const pingSeconds = (performance.now() - started) / 1000;
      const rows = await this.prisma.$queryRaw<{ state: string; n: number }[]>`
        SELECT coalesce(state, 'unknown') AS state, count(*)::int AS n
        FROM pg_stat_activity
        WHERE datname = current_database()
        GROUP BY 1`;
      if (this.databaseFailures > 0) {
        logger.info({ failures: this.databaseFailures }, "database metrics available again");
      }
      this.databaseFailures = 0;
      const counts = new Map(rows.map((row) => [row.state, row.n]));
      const states = ["active", "idle", "idle in transaction", ...counts.keys()];
      return [
        {
          name: PROCESS_METRICS.databasePingSeconds,
          value: pingSeconds,
          timestamp: now,
          labels: this.labels,
        },
        ...[...new Set(states)].map((state) => ({
          name: PROCESS_METRICS.databaseConnections,
          value: counts.get(state) ?? 0,
          timestamp: now,
          labels: { ...this.labels, state },
        })),
      ];
    } catch (error) {
      this.databaseFailures += 1;
      if (this.databaseFailures % LOG_EVERY_NTH_FAILURE === 1) {
        logger.warn(
          { err: error, failures: this.databaseFailures },
          "database metrics unavailable, sampling process metrics only",
        );
      }
      return [];
    }
  }
}
