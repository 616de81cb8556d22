"use client";
/** The chart of the chosen metric over the chosen range, refreshed every few seconds. */
import type { MetricsPage } from "@/lib/dashboard/metrics";
import { MetricChart } from "../charts/metric-chart";
import { formatDuration } from "../format";
import { useLiveData } from "../live";
import { LiveStatus } from "../ui/live-status";

export function MetricsView({ initial, query }: { initial: MetricsPage; query: string }) {
  const live = useLiveData(`/api/dashboard/metrics?${query}`, initial, (d) => d.range === "15m");
  const { chart } = live.data;
  if (!chart) return null;
  const points = chart.series.reduce((sum, s) => sum + s.points.length, 0);
  return (
    <section className="panel" aria-labelledby="metric-title">
      <h2 id="metric-title">{chart.name}</h2>
      <LiveStatus
        updatedAt={live.dataUpdatedAt}
        error={live.error}
        live={live.data.range === "15m"}
      />
      {points === 0 ? (
        <p className="muted">
          No sample of {chart.name} in the last {chart.range}. Choose a wider range.
        </p>
      ) : (
        <>
          <p className="muted">
            {chart.series.length} series, {points} points
            {chart.bucketMs !== null
              ? `, averaged over ${formatDuration(chart.bucketMs)} buckets`
              : ", raw samples"}
            .
          </p>
          <MetricChart chart={chart} />
        </>
      )}
    </section>
  );
}
