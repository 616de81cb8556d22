"use client";
/**
 * Per-round charts of a federation: test accuracy and loss of each published model (lines, two
 * axes), and the accepted, rejected and excluded updates of each round (stacked bars).
 */
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { RoundRow } from "@/lib/dashboard/federations";
import { CHART_HEIGHT, COLORS } from "./palette";

export function AccuracyLossChart({ rounds }: { rounds: RoundRow[] }) {
  const data = rounds
    .filter((r) => r.testAccuracy !== null || r.testLoss !== null)
    .map((r) => ({ round: r.number, accuracy: r.testAccuracy, loss: r.testLoss }));
  if (data.length === 0) {
    return (
      <p className="muted">
        No evaluated round yet: accuracy and loss appear once a round publishes.
      </p>
    );
  }
  return (
    <figure
      className="chart"
      data-testid="accuracy-chart"
      aria-label="Test accuracy and loss per round"
    >
      <LineChart responsive style={{ width: "100%", height: CHART_HEIGHT }} data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis
          dataKey="round"
          label={{ value: "round", position: "insideBottomRight", offset: -4 }}
        />
        <YAxis
          yAxisId="accuracy"
          domain={[0, 1]}
          tickFormatter={(v: number) => `${Math.round(v * 100)}%`}
        />
        <YAxis yAxisId="loss" orientation="right" />
        <Tooltip />
        <Legend />
        <Line
          yAxisId="accuracy"
          type="monotone"
          dataKey="accuracy"
          name="test accuracy"
          stroke={COLORS.accuracy}
          isAnimationActive={false}
        />
        <Line
          yAxisId="loss"
          type="monotone"
          dataKey="loss"
          name="test loss"
          stroke={COLORS.loss}
          strokeDasharray="5 3"
          isAnimationActive={false}
        />
      </LineChart>
    </figure>
  );
}

export function UpdatesChart({ rounds }: { rounds: RoundRow[] }) {
  const data = rounds.map((r) => ({
    round: r.number,
    accepted: r.accepted,
    rejected: r.rejected,
    excluded: r.excluded,
  }));
  if (data.every((d) => d.accepted + d.rejected + d.excluded === 0)) {
    return <p className="muted">No update decided yet: the bars appear when a round closes.</p>;
  }
  return (
    <figure
      className="chart"
      data-testid="updates-chart"
      aria-label="Accepted, rejected and excluded updates per round"
    >
      <BarChart responsive style={{ width: "100%", height: CHART_HEIGHT }} data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="round" />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend />
        <Bar
          dataKey="accepted"
          stackId="updates"
          fill={COLORS.accepted}
          isAnimationActive={false}
        />
        <Bar
          dataKey="rejected"
          stackId="updates"
          fill={COLORS.rejected}
          isAnimationActive={false}
        />
        <Bar
          dataKey="excluded"
          stackId="updates"
          fill={COLORS.excluded}
          isAnimationActive={false}
        />
      </BarChart>
    </figure>
  );
}
