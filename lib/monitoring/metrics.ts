/**
 * Metric samples stored in PostgreSQL (table "MetricPoint"), read back as history for the
 * dashboard and as latest values for /api/metrics and the alert rules.
 *
 * Names and labels follow the Prometheus data model: a name matches `[a-zA-Z_:][a-zA-Z0-9_:]*`,
 * a label name matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with `__`, and label values
 * are strings. A series is one name plus one label set. Labels are stored as JSONB, so key order
 * does not matter.
 *
 * Counters (names ending in `_total`) are stored as cumulative values: incrementCounter and
 * recordRoundMetrics read the series' latest value and insert the sum under one transaction-scoped
 * advisory lock, so concurrent increments from several processes are not lost.
 *
 * getMetricHistory returns raw points while every series in the range has at most `maxPoints`
 * points. Otherwise it buckets the range in SQL with date_bin into at most `maxPoints` buckets per
 * series and returns the average, minimum, maximum and count of each bucket.
 */
import type { Prisma, PrismaClient } from "../generated/prisma/client";
import { inLockedTransaction } from "./locks";

export const METRIC_NAME_PATTERN = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Metrics that the federated-learning rounds record, labelled with `federation_id`. */
export const FL_METRICS = {
  roundDurationSeconds: "round_duration_seconds",
  updatesAcceptedTotal: "updates_accepted_total",
  updatesRejectedTotal: "updates_rejected_total",
  anomaliesDetectedTotal: "anomalies_detected_total",
  quarantinedClients: "quarantined_clients",
  authFailuresTotal: "auth_failures_total",
  testAccuracy: "test_accuracy",
  testLoss: "test_loss",
  roundNumber: "round_number",
} as const;

/** Metrics that each worker samples about its own process, labelled with `worker`. */
export const PROCESS_METRICS = {
  cpuPercent: "worker_cpu_percent",
  residentMemoryBytes: "worker_resident_memory_bytes",
  heapUsedBytes: "worker_heap_used_bytes",
  heapTotalBytes: "worker_heap_total_bytes",
  eventLoopLagSeconds: "worker_event_loop_lag_seconds",
  eventLoopLagP99Seconds: "worker_event_loop_lag_p99_seconds",
  databaseConnections: "database_connections",
  databasePingSeconds: "database_ping_seconds",
} as const;

/** HELP text of the known metrics, used by the Prometheus exposition. */
export const METRIC_HELP: Record<string, string> = {
  [FL_METRICS.roundDurationSeconds]: "Duration of the latest closed round, in seconds.",
  [FL_METRICS.updatesAcceptedTotal]: "Client updates accepted into aggregation, cumulative.",
  [FL_METRICS.updatesRejectedTotal]: "Client updates rejected or excluded, cumulative.",
  [FL_METRICS.anomaliesDetectedTotal]: "Updates the detector flagged as anomalous, cumulative.",
  [FL_METRICS.quarantinedClients]: "Clients in quarantine after the latest round.",
  [FL_METRICS.authFailuresTotal]: "Failed client authentications, cumulative.",
  [FL_METRICS.testAccuracy]: "Test accuracy of the latest published global model.",
  [FL_METRICS.testLoss]: "Test loss of the latest published global model.",
  [FL_METRICS.roundNumber]: "Number of the latest round whose metrics were recorded.",
  [PROCESS_METRICS.cpuPercent]: "Worker CPU time over wall time since the previous sample, in %.",
  [PROCESS_METRICS.residentMemoryBytes]: "Worker resident set size, in bytes.",
  [PROCESS_METRICS.heapUsedBytes]: "Worker V8 heap in use, in bytes.",
  [PROCESS_METRICS.heapTotalBytes]: "Worker V8 heap allocated, in bytes.",
  [PROCESS_METRICS.eventLoopLagSeconds]: "Worker mean event-loop delay since the previous sample.",
  [PROCESS_METRICS.eventLoopLagP99Seconds]: "Worker 99th percentile event-loop delay.",
  [PROCESS_METRICS.databaseConnections]: "Connections to this database, by state.",
  [PROCESS_METRICS.databasePingSeconds]: "Round trip of SELECT 1 from a worker, in seconds.",
};

export const DEFAULT_MAX_POINTS = 500;
export const MAX_HISTORY_POINTS = 10_000;

// Advisory locks here use the two-key form (namespace, key), whose key space is separate from the
// one-key form that the event chain lock uses.
const LOCK_NAMESPACE = 0x51534d; // "QSM"
const COUNTER_LOCK_KEY = 1;

export type MetricLabels = Record<string, string>;

export interface MetricSample {
  name: string;
  value: number;
  timestamp?: Date;
  labels?: MetricLabels;
}

export interface LatestMetricValue {
  name: string;
  labels: MetricLabels;
  value: number;
  timestamp: Date;
}

export interface MetricHistoryPoint {
  /** The point's time, or the start of its bucket when downsampled. */
  timestamp: Date;
  /** The value, or the bucket's average when downsampled. */
  value: number;
  min: number;
  max: number;
  /** Number of raw points behind this point (1 for raw points). */
  count: number;
}

export interface MetricSeries {
  labels: MetricLabels;
  points: MetricHistoryPoint[];
}

export interface MetricHistory {
  name: string;
  start: Date;
  end: Date;
  /** Bucket width in milliseconds, or null when the points are raw. */
  bucketMs: number | null;
  series: MetricSeries[];
}

export interface MetricHistoryOptions {
  /** Upper bound on the points returned per series (default DEFAULT_MAX_POINTS). */
  maxPoints?: number;
  /** Only series whose labels contain these. */
  labels?: MetricLabels;
}

export interface RoundMetricsInput {
  federationId: string;
  roundNumber: number;
  durationSeconds: number;
  /** Updates accepted into this round's aggregation. */
  accepted: number;
  /** Updates rejected or excluded in this round. */
  rejected: number;
  /** Updates flagged as anomalous in this round. */
  anomalies: number;
  /** Clients in quarantine after this round. */
  quarantined: number;
  testAccuracy?: number | null;
  testLoss?: number | null;
  timestamp?: Date;
}

/** Throws unless `name` is a valid Prometheus metric name. */
export function assertMetricName(name: string): void {
  if (typeof name !== "string" || !METRIC_NAME_PATTERN.test(name)) {
    throw new RangeError(
      `invalid metric name ${JSON.stringify(name)}, expected one matching ${METRIC_NAME_PATTERN}`,
    );
  }
}

/** Validates a label set and returns a copy with its keys sorted. */
export function normalizeLabels(labels: MetricLabels = {}): MetricLabels {
  if (labels === null || typeof labels !== "object" || Array.isArray(labels)) {
    throw new TypeError(`invalid labels ${JSON.stringify(labels)}, expected an object of strings`);
  }
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL_NAME_PATTERN.test(key) || key.startsWith("__")) {
      throw new RangeError(
        `invalid label name ${JSON.stringify(key)}, expected one matching ${LABEL_NAME_PATTERN} ` +
          "and not starting with __",
      );
    }
    if (typeof value !== "string") {
      throw new TypeError(
        `invalid value ${JSON.stringify(value)} for label "${key}", expected a string`,
      );
    }
  }
  const sorted = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(sorted);
}

function assertFiniteNumber(value: number, name: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`invalid ${name} ${String(value)}, expected a finite number`);
  }
}

function assertCount(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`invalid ${name} ${String(value)}, expected a non-negative integer`);
  }
}

function assertDate(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TypeError(`invalid ${name} ${String(value)}, expected a valid Date`);
  }
}

function validateSample(sample: MetricSample): Required<MetricSample> {
  assertMetricName(sample.name);
  assertFiniteNumber(sample.value, `value for metric ${sample.name}`);
  const timestamp = sample.timestamp ?? new Date();
  assertDate(timestamp, "timestamp");
  return {
    name: sample.name,
    value: sample.value,
    timestamp,
    labels: normalizeLabels(sample.labels),
  };
}

interface LatestRow {
  name: string;
  labels: MetricLabels;
  value: number;
  timestamp: Date;
}

export class MetricsCollector {
  constructor(private readonly prisma: PrismaClient) {}

  /** Stores one sample. `timestamp` defaults to now and is stored with millisecond precision. */
  async recordMetric(
    name: string,
    value: number,
    timestamp?: Date,
    labels?: MetricLabels,
  ): Promise<void> {
    const sample = validateSample({ name, value, timestamp, labels });
    await this.prisma.metricPoint.create({ data: sample });
  }

  /** Stores several samples in one statement, after validating all of them. */
  async recordMetrics(samples: MetricSample[]): Promise<number> {
    if (!Array.isArray(samples)) {
      throw new TypeError(`invalid samples ${String(samples)}, expected an array`);
    }
    const data = samples.map(validateSample);
    if (data.length === 0) return 0;
    const result = await this.prisma.metricPoint.createMany({ data });
    return result.count;
  }

  /**
   * Adds `by` to the latest value of a counter series (0 when it has none), stores the sum and
   * returns it.
   */
  async incrementCounter(name: string, by = 1, labels: MetricLabels = {}): Promise<number> {
    assertMetricName(name);
    assertFiniteNumber(by, "by");
    if (by < 0) {
      throw new RangeError(`invalid by ${by}, expected a counter increment of at least 0`);
    }
    const normalized = normalizeLabels(labels);
    const increment = async (tx: Prisma.TransactionClient) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${COUNTER_LOCK_KEY}::int)`;
      const previous = await latestValue(tx, name, normalized);
      const value = (previous ?? 0) + by;
      await tx.metricPoint.create({ data: { name, value, labels: normalized } });
      return value;
    };
    // Inside a caller's interactive transaction the sample commits with the caller's writes.
    return inLockedTransaction(this.prisma, increment);
  }

  /**
   * Records the metrics of one closed round, labelled with `federation_id`. Counters grow by the
   * round's counts. Returns false, and stores nothing, when this round or a later one of the
   * federation was already recorded, so a retried round-close job does not count twice.
   */
  async recordRoundMetrics(input: RoundMetricsInput): Promise<boolean> {
    if (typeof input.federationId !== "string" || input.federationId === "") {
      throw new TypeError(
        `invalid federationId ${JSON.stringify(input.federationId)}, expected a non-empty string`,
      );
    }
    assertCount(input.roundNumber, "roundNumber");
    assertFiniteNumber(input.durationSeconds, "durationSeconds");
    if (input.durationSeconds < 0) {
      throw new RangeError(
        `invalid durationSeconds ${input.durationSeconds}, expected a non-negative number`,
      );
    }
    assertCount(input.accepted, "accepted");
    assertCount(input.rejected, "rejected");
    assertCount(input.anomalies, "anomalies");
    assertCount(input.quarantined, "quarantined");
    if (input.testAccuracy != null) assertFiniteNumber(input.testAccuracy, "testAccuracy");
    if (input.testLoss != null) assertFiniteNumber(input.testLoss, "testLoss");
    const timestamp = input.timestamp ?? new Date();
    assertDate(timestamp, "timestamp");
    const labels = { federation_id: input.federationId };

    // Inside a caller's interactive transaction the points commit with the caller's other
    // writes, as the round close does.
    const record = async (tx: Prisma.TransactionClient) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${COUNTER_LOCK_KEY}::int)`;
      const lastRound = await latestValue(tx, FL_METRICS.roundNumber, labels);
      if (lastRound !== null && lastRound >= input.roundNumber) return false;

      const counters: [string, number][] = [
        [FL_METRICS.updatesAcceptedTotal, input.accepted],
        [FL_METRICS.updatesRejectedTotal, input.rejected],
        [FL_METRICS.anomaliesDetectedTotal, input.anomalies],
      ];
      const data: Required<MetricSample>[] = [];
      for (const [name, count] of counters) {
        const previous = await latestValue(tx, name, labels);
        data.push({ name, value: (previous ?? 0) + count, timestamp, labels });
      }
      const gauges: [string, number | null | undefined][] = [
        [FL_METRICS.roundDurationSeconds, input.durationSeconds],
        [FL_METRICS.quarantinedClients, input.quarantined],
        [FL_METRICS.testAccuracy, input.testAccuracy],
        [FL_METRICS.testLoss, input.testLoss],
        [FL_METRICS.roundNumber, input.roundNumber],
      ];
      for (const [name, value] of gauges) {
        if (value != null) data.push({ name, value, timestamp, labels });
      }
      await tx.metricPoint.createMany({ data });
      return true;
    };
    return inLockedTransaction(this.prisma, record);
  }

  /**
   * Returns the latest value of every series with a sample at or after `since`, optionally only
   * for the given names and for series whose labels contain `labels`.
   */
  async getLatestValues(
    options: { since?: Date; names?: string[]; labels?: MetricLabels } = {},
  ): Promise<LatestMetricValue[]> {
    const since = options.since ?? new Date(0);
    assertDate(since, "since");
    for (const name of options.names ?? []) assertMetricName(name);
    const labels = normalizeLabels(options.labels);
    const names = options.names ?? null;
    const rows = await this.prisma.$queryRaw<LatestRow[]>`
      SELECT DISTINCT ON (name, labels) name, labels, value, "timestamp"
      FROM "MetricPoint"
      WHERE "timestamp" >= ${since}
        AND (${names}::text[] IS NULL OR name = ANY(${names}::text[]))
        AND labels @> ${JSON.stringify(labels)}::jsonb
      ORDER BY name, labels, "timestamp" DESC, id DESC`;
    return rows.map((row) => ({ ...row, labels: normalizeLabels(row.labels) }));
  }

  /** Returns the samples of `name` with `start <= timestamp <= end`, downsampled when long. */
  async getMetricHistory(
    name: string,
    start: Date,
    end: Date,
    options: MetricHistoryOptions = {},
  ): Promise<MetricHistory> {
    assertMetricName(name);
    assertDate(start, "start");
    assertDate(end, "end");
    if (start.getTime() > end.getTime()) {
      throw new RangeError(
        `invalid range: start ${start.toISOString()} is after end ${end.toISOString()}`,
      );
    }
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_HISTORY_POINTS) {
      throw new RangeError(
        `invalid maxPoints ${maxPoints}, expected an integer from 1 to ${MAX_HISTORY_POINTS}`,
      );
    }
    const labelFilter = JSON.stringify(normalizeLabels(options.labels));

    const counts = await this.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n
      FROM "MetricPoint"
      WHERE name = ${name} AND "timestamp" >= ${start} AND "timestamp" <= ${end}
        AND labels @> ${labelFilter}::jsonb
      GROUP BY labels`;
    const largest = Math.max(0, ...counts.map((row) => row.n));

    if (largest <= maxPoints) {
      const rows = await this.prisma.$queryRaw<{ labels: MetricLabels; t: Date; value: number }[]>`
        SELECT labels, "timestamp" AS t, value
        FROM "MetricPoint"
        WHERE name = ${name} AND "timestamp" >= ${start} AND "timestamp" <= ${end}
          AND labels @> ${labelFilter}::jsonb
        ORDER BY "timestamp", id`;
      const points = rows.map((row) => ({
        labels: row.labels,
        point: { timestamp: row.t, value: row.value, min: row.value, max: row.value, count: 1 },
      }));
      return { name, start, end, bucketMs: null, series: groupBySeries(points) };
    }

    // Bucket index floor((t - start) / width) stays below maxPoints for every t <= end because
    // width > (end - start) / maxPoints.
    const bucketMs = Math.floor((end.getTime() - start.getTime()) / maxPoints) + 1;
    const rows = await this.prisma.$queryRaw<
      { labels: MetricLabels; bucket: Date; avg: number; min: number; max: number; n: number }[]
    >`
      SELECT labels,
             date_bin(make_interval(secs => ${bucketMs / 1000}::float8), "timestamp", ${start}::timestamp) AS bucket,
             avg(value)::float8 AS avg, min(value) AS min, max(value) AS max, count(*)::int AS n
      FROM "MetricPoint"
      WHERE name = ${name} AND "timestamp" >= ${start} AND "timestamp" <= ${end}
        AND labels @> ${labelFilter}::jsonb
      GROUP BY labels, bucket
      ORDER BY bucket`;
    const points = rows.map((row) => ({
      labels: row.labels,
      point: { timestamp: row.bucket, value: row.avg, min: row.min, max: row.max, count: row.n },
    }));
    return { name, start, end, bucketMs, series: groupBySeries(points) };
  }

  /** Deletes the samples older than `before` and returns how many were deleted. */
  async pruneMetricHistory(before: Date): Promise<number> {
    assertDate(before, "before");
    const result = await this.prisma.metricPoint.deleteMany({
      where: { timestamp: { lt: before } },
    });
    return result.count;
  }
}

type Queryable = Pick<PrismaClient, "$queryRaw">;

async function latestValue(
  db: Queryable,
  name: string,
  labels: MetricLabels,
): Promise<number | null> {
  const rows = await db.$queryRaw<{ value: number }[]>`
    SELECT value FROM "MetricPoint"
    WHERE name = ${name} AND labels = ${JSON.stringify(labels)}::jsonb
    ORDER BY "timestamp" DESC, id DESC
    LIMIT 1`;
  return rows[0]?.value ?? null;
}

function groupBySeries(
  rows: { labels: MetricLabels; point: MetricHistoryPoint }[],
): MetricSeries[] {
  const series = new Map<string, MetricSeries>();
  for (const row of rows) {
    const labels = normalizeLabels(row.labels);
    const key = JSON.stringify(labels);
    let entry = series.get(key);
    if (!entry) {
      entry = { labels, points: [] };
      series.set(key, entry);
    }
    entry.points.push(row.point);
  }
  return [...series.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, entry]) => entry);
}
