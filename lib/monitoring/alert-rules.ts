/**
 * Pure helpers of the alert rules: the comparators and the deduplication fingerprint.
 *
 * A fingerprint is SHA-256 (hex) of "rule:<rule id>" or "title:<title>", a newline, and the
 * canonical JSON of the labels, so label order never splits one alert into two.
 */
import { createHash } from "node:crypto";
import type { Comparator } from "../generated/prisma/client";
import { type MetricLabels, normalizeLabels } from "./metrics";
import { canonicalJson } from "./security-events";

export const COMPARATORS = [
  "gt",
  "gte",
  "lt",
  "lte",
  "eq",
  "ne",
] as const satisfies readonly Comparator[];

export const COMPARATOR_SYMBOLS: Record<Comparator, string> = {
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
  eq: "==",
  ne: "!=",
};

/** Returns whether `value` breaches `threshold` under `comparator`. */
export function compareThreshold(
  value: number,
  comparator: Comparator,
  threshold: number,
): boolean {
  switch (comparator) {
    case "gt":
      return value > threshold;
    case "gte":
      return value >= threshold;
    case "lt":
      return value < threshold;
    case "lte":
      return value <= threshold;
    case "eq":
      return value === threshold;
    case "ne":
      return value !== threshold;
    default:
      throw new RangeError(
        `invalid comparator "${comparator as string}", expected one of ${COMPARATORS.join(", ")}`,
      );
  }
}

/** Returns the deduplication key of an alert: SHA-256 (hex) of its source and canonical labels. */
export function alertFingerprint(
  source: { ruleId: string } | { title: string },
  labels: MetricLabels,
): string {
  const head = "ruleId" in source ? `rule:${source.ruleId}` : `title:${source.title}`;
  return createHash("sha256")
    .update(`${head}\n${canonicalJson(normalizeLabels(labels))}`)
    .digest("hex");
}
