/**
 * Metric charts for the dashboard: the names that have samples, and one metric's history over a
 * time range, downsampled in SQL by MetricsCollector.getMetricHistory when the range contains more
 * points than a chart can show.
 */
import type { PrismaClient } from "../generated/prisma/client";
import { MetricsCollector } from "../monitoring/metrics";
import { TIME_RANGES, type TimeRange } from "../validations/dashboard";

/** Points per series drawn by a chart; wider ranges are averaged into this many buckets. */
export const CHART_POINTS = 240;

export interface MetricNameRow {
  name: string;
  samples: number;
}

export interface MetricChartData {
  name: string;
  range: TimeRange;
  start: string;
  end: string;
  /** Bucket width in milliseconds, or null when the points are raw samples. */
  bucketMs: number | null;
  series: {
    /** The label set as `key="value"` pairs, or "(no labels)". */
    label: string;
    labels: Record<string, string>;
    points: { t: number; value: number; min: number; max: number; count: number }[];
  }[];
}

/** Returns every metric name with a stored sample, and its sample count. */
export async function listMetricNames(prisma: PrismaClient): Promise<MetricNameRow[]> {
  const rows = await prisma.metricPoint.groupBy({
    by: ["name"],
    _count: { _all: true },
    orderBy: { name: "asc" },
  });
  return rows.map((row) => ({ name: row.name, samples: row._count._all }));
}

export function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "(no labels)";
  return entries.map(([key, value]) => `${key}="${value}"`).join(", ");
}

/** Returns the history of metric `name` over the last `range`, at most CHART_POINTS per series. */
export async function getMetricChart(
  prisma: PrismaClient,
  name: string,
  range: TimeRange,
  now = new Date(),
): Promise<MetricChartData> {
  const start = new Date(now.getTime() - TIME_RANGES[range]);
  const history = await new MetricsCollector(prisma).getMetricHistory(name, start, now, {
    maxPoints: CHART_POINTS,
  });
  return {
    name,
    range,
    start: start.toISOString(),
    end: now.toISOString(),
    bucketMs: history.bucketMs,
    series: history.series.map((series) => ({
      label: labelText(series.labels),
      labels: series.labels,
      points: series.points.map((point) => ({
        t: point.timestamp.getTime(),
        value: point.value,
        min: point.min,
        max: point.max,
        count: point.count,
      })),
    })),
  };
}

export interface MetricsPage {
  names: MetricNameRow[];
  /** The metric shown: the requested one, else test_accuracy when recorded, else the first. */
  selected: string | null;
  range: TimeRange;
  chart: MetricChartData | null;
}

/** Returns the metric names and the chart of the requested (or default) metric. */
export async function getMetricsPage(
  prisma: PrismaClient,
  query: { name?: string; range: TimeRange },
  now = new Date(),
): Promise<MetricsPage> {
  const names = await listMetricNames(prisma);
  const selected =
    query.name ?? names.find((n) => n.name === "test_accuracy")?.name ?? names[0]?.name ?? null;
  return {
    names,
    selected,
    range: query.range,
    chart: selected === null ? null : await getMetricChart(prisma, selected, query.range, now),
  };
}
