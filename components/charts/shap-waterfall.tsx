"use client";
/**
 * A SHAP waterfall for one scored update. The first bar is the expected value (the detector's
 * mean score). Each feature's bar starts where the previous one ended and moves by its SHAP value,
 * and the last bar is the anomaly score. TreeSHAP explanations are additive, so the last feature
 * bar ends at the score. Each feature bar carries its SHAP value in `data-shap-value`, and the
 * table beside the chart lists the feature values.
 */
import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, Tooltip, XAxis, YAxis } from "recharts";
import type { ShapFeature } from "@/lib/dashboard/clients";
import { formatNumber } from "../format";
import { COLORS } from "./palette";

export interface ShapWaterfallProps {
  expectedValue: number;
  score: number;
  threshold: number;
  features: ShapFeature[];
  explanation: string;
}

interface WaterfallRow {
  name: string;
  range: [number, number];
  kind: "expected" | "feature" | "score";
  shap: number;
}

/** Digits shown for scores and SHAP values. */
const DIGITS = 4;

export function waterfallRows(
  props: Pick<ShapWaterfallProps, "expectedValue" | "score" | "features">,
): WaterfallRow[] {
  const rows: WaterfallRow[] = [
    { name: "expected value", range: [0, props.expectedValue], kind: "expected", shap: 0 },
  ];
  let position = props.expectedValue;
  const ordered = [...props.features].sort((a, b) => Math.abs(b.shap) - Math.abs(a.shap));
  for (const feature of ordered) {
    const next = position + feature.shap;
    rows.push({
      name: feature.name,
      range: [Math.min(position, next), Math.max(position, next)],
      kind: "feature",
      shap: feature.shap,
    });
    position = next;
  }
  rows.push({ name: "anomaly score", range: [0, props.score], kind: "score", shap: 0 });
  return rows;
}

function rowColor(row: WaterfallRow): string {
  if (row.kind !== "feature") return COLORS.base;
  return row.shap >= 0 ? COLORS.positive : COLORS.negative;
}

interface ShapeProps {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  fill?: string;
  payload?: WaterfallRow;
}

function WaterfallBar(props: ShapeProps) {
  const row = props.payload;
  return (
    <rect
      x={props.x}
      y={props.y}
      width={Math.max(1, props.width ?? 0)}
      height={props.height}
      fill={props.fill}
      data-kind={row?.kind}
      data-feature={row?.kind === "feature" ? row.name : undefined}
      data-shap-value={row?.kind === "feature" ? row.shap : undefined}
      data-expected-value={row?.kind === "expected" ? row.range[1] : undefined}
    />
  );
}

export function ShapWaterfall(props: ShapWaterfallProps) {
  const rows = waterfallRows(props);
  const shapSum = props.features.reduce((sum, f) => sum + f.shap, 0);
  const height = 40 + rows.length * 28;
  return (
    <div className="shap" data-testid="shap-explanation">
      <p>
        Anomaly score <strong data-testid="shap-score">{formatNumber(props.score, DIGITS)}</strong>{" "}
        (threshold {formatNumber(props.threshold, 3)}) = expected value{" "}
        <span data-testid="shap-expected">{formatNumber(props.expectedValue, DIGITS)}</span> + sum
        of SHAP values <span data-testid="shap-sum">{formatNumber(shapSum, DIGITS)}</span>.
      </p>
      <p className="explanation">{props.explanation}</p>
      <div className="shap-layout">
        <figure
          className="chart"
          aria-label="SHAP waterfall from the expected value to the anomaly score"
        >
          <BarChart
            responsive
            layout="vertical"
            style={{ width: "100%", height }}
            data={rows}
            margin={{ left: 8, right: 16 }}
          >
            <CartesianGrid strokeDasharray="3 3" horizontal={false} />
            <XAxis
              type="number"
              domain={["auto", "auto"]}
              tickFormatter={(v: number) => v.toFixed(2)}
            />
            <YAxis
              type="category"
              dataKey="name"
              width={200}
              interval={0}
              tick={{ fontSize: 12 }}
            />
            <Tooltip
              formatter={(_value, _name, item) => {
                const row = (item as { payload?: WaterfallRow }).payload;
                if (!row) return "";
                return row.kind === "feature"
                  ? `SHAP ${formatNumber(row.shap, DIGITS)}`
                  : formatNumber(row.range[1], DIGITS);
              }}
            />
            <ReferenceLine x={props.threshold} stroke={COLORS.threshold} strokeDasharray="4 4" />
            <Bar dataKey="range" shape={WaterfallBar} isAnimationActive={false}>
              {rows.map((row) => (
                <Cell key={`${row.kind}-${row.name}`} fill={rowColor(row)} />
              ))}
            </Bar>
          </BarChart>
        </figure>
        <div className="table-scroll">
          <table className="compact">
            <caption className="visually-hidden">Feature values and SHAP values</caption>
            <thead>
              <tr>
                <th scope="col">Feature</th>
                <th scope="col">Value</th>
                <th scope="col">SHAP</th>
              </tr>
            </thead>
            <tbody>
              {[...props.features]
                .sort((a, b) => Math.abs(b.shap) - Math.abs(a.shap))
                .map((feature) => (
                  <tr key={feature.name}>
                    <th scope="row">{feature.name}</th>
                    <td className="num">{formatNumber(feature.value, DIGITS)}</td>
                    <td className="num">{formatNumber(feature.shap, DIGITS)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}
