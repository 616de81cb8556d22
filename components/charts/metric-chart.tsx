"use client";
/**
 * One metric's history: a line per label set over the chosen range. Downsampled points are bucket
 * averages; the tooltip shows the bucket's minimum, maximum and sample count.
 */
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import type { MetricChartData } from "@/lib/dashboard/metrics";
import { CHART_HEIGHT, COLORS } from "./palette";

/** Ticks drawn on the time axis, evenly spaced over the range. */
const TICKS = 6;

function timeTick(rangeMs: number) {
  // UTC "HH:MM" within a day, "MM-DD HH:MM" for longer ranges.
  return (t: number) => {
    const text = new Date(t).toISOString();
    return rangeMs <= 86_400_000
      ? text.slice(11, 16)
      : `${text.slice(5, 10)} ${text.slice(11, 16)}`;
  };
}

export function MetricChart({ chart }: { chart: MetricChartData }) {
  const start = new Date(chart.start).getTime();
  const end = new Date(chart.end).getTime();
  const ticks = Array.from({ length: TICKS + 1 }, (_, i) => start + ((end - start) * i) / TICKS);
  return (
    <figure className="chart" data-testid="metric-chart" aria-label={`History of ${chart.name}`}>
      <LineChart
        responsive
        style={{ width: "100%", height: CHART_HEIGHT + 60 }}
        margin={{ top: 8, right: 32, bottom: 8, left: 8 }}
      >
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={[start, end]}
          ticks={ticks}
          tickFormatter={timeTick(end - start)}
        />
        <YAxis />
        <Tooltip
          labelFormatter={(t) => new Date(Number(t)).toISOString().replace("T", " ").slice(0, 19)}
        />
        <Legend />
        {chart.series.map((series, i) => (
          <Line
            key={series.label}
            data={series.points}
            dataKey="value"
            name={series.label}
            stroke={COLORS.series[i % COLORS.series.length]}
            dot={series.points.length < 60}
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </figure>
  );
}
