"use client";
/** A client's reputation and influence weight per round, and its anomaly score per round. */
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { ClientDetail } from "@/lib/dashboard/clients";
import { CHART_HEIGHT, COLORS } from "./palette";

export function ReputationChart({ history }: { history: ClientDetail["reputationHistory"] }) {
  if (history.length === 0) {
    return (
      <p className="muted">
        No reputation recorded yet: it changes when a round with this client closes.
      </p>
    );
  }
  const data = history.map((h, i) => ({
    point: i + 1,
    round: h.roundNumber,
    reputation: h.reputation,
    influence: h.influenceWeight,
  }));
  return (
    <figure
      className="chart"
      data-testid="reputation-chart"
      aria-label="Reputation and influence weight per round"
    >
      <LineChart responsive style={{ width: "100%", height: CHART_HEIGHT }} data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="round" />
        <YAxis domain={[0, 1]} />
        <Tooltip />
        <Legend />
        <Line
          type="monotone"
          dataKey="reputation"
          stroke={COLORS.reputation}
          isAnimationActive={false}
        />
        <Line
          type="monotone"
          dataKey="influence"
          name="influence weight"
          stroke={COLORS.influence}
          strokeDasharray="5 3"
          isAnimationActive={false}
        />
      </LineChart>
    </figure>
  );
}

export function AnomalyScoreChart({ history }: { history: ClientDetail["scoreHistory"] }) {
  if (history.length === 0) {
    return (
      <p className="muted">
        No anomaly score yet: scores appear when a round with this client closes.
      </p>
    );
  }
  const data = history.map((h) => ({ round: h.roundNumber, score: h.score }));
  const threshold = history[history.length - 1].threshold;
  return (
    <figure className="chart" data-testid="score-chart" aria-label="Anomaly score per round">
      <LineChart responsive style={{ width: "100%", height: CHART_HEIGHT }} data={data}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="round" />
        <YAxis domain={[0, 1]} />
        <Tooltip />
        <Legend />
        <ReferenceLine
          y={threshold}
          stroke={COLORS.threshold}
          strokeDasharray="4 4"
          label={`threshold ${threshold}`}
        />
        <Line
          type="monotone"
          dataKey="score"
          name="anomaly score"
          stroke={COLORS.score}
          isAnimationActive={false}
        />
      </LineChart>
    </figure>
  );
}
