/**
 * zod schemas of the dashboard: the forms and server actions share them (the form checks before it
 * sends, the action checks again on the server), and the JSON route handlers parse their query
 * strings with them. Form values arrive as strings, so numbers are coerced and empty optional
 * fields become undefined.
 */
import { z } from "zod";

export const OPERATOR_ROLES = ["admin", "operator", "viewer"] as const;
export const EVENT_TYPE_VALUES = [
  "authentication",
  "cryptographic",
  "anomaly_detection",
  "aggregation",
  "operator_action",
  "system",
] as const;
export const SEVERITY_VALUES = ["low", "medium", "high", "critical"] as const;
export const ALERT_STATE_VALUES = ["open", "acknowledged", "resolved"] as const;
export const COMPARATOR_VALUES = ["gt", "gte", "lt", "lte", "eq", "ne"] as const;
export const ARCHITECTURE_VALUES = ["mlp", "dense_dropout"] as const;
export const AGGREGATION_RULE_VALUES = [
  "fedavg",
  "reputation",
  "median",
  "trimmed-mean",
  "krum",
  "multi-krum",
  "bulyan",
] as const;
export const CLIPPING_VALUES = ["none", "fixed", "adaptive"] as const;

/** Time ranges offered by the event filters and the metric charts, in milliseconds. */
export const TIME_RANGES = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 24 * 3_600_000,
  "7d": 7 * 24 * 3_600_000,
  "30d": 30 * 24 * 3_600_000,
} as const;
export type TimeRange = keyof typeof TIME_RANGES;
export const TIME_RANGE_VALUES = Object.keys(TIME_RANGES) as [TimeRange, ...TimeRange[]];

export const MIN_OPERATOR_PASSWORD_LENGTH = 12;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FEDERATION_NAME = /^[\w .:-]{1,100}$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Turns an empty or whitespace-only form value into undefined, so optional fields stay unset. */
const blankToUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const optionalText = (max: number) =>
  z.preprocess(blankToUndefined, z.string().trim().max(max).optional());

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A checkbox: "on", "true" or true when ticked, absent or "false" when not. */
const checkbox = z.preprocess(
  (value) => value === true || value === "on" || value === "true",
  z.boolean(),
);

export const createFederationSchema = z
  .object({
    name: z
      .string()
      .trim()
      .regex(FEDERATION_NAME, "use 1-100 letters, digits, spaces, '.', ':', '_' or '-'"),
    architecture: z.enum(ARCHITECTURE_VALUES),
    plannedRounds: integer(1, 1000),
    minClients: integer(1, 10_000),
    roundTimeoutSeconds: integer(5, 7 * 86_400),
    aggregationRule: z.enum(AGGREGATION_RULE_VALUES),
    clipping: z.enum(CLIPPING_VALUES),
    maxNorm: z.preprocess(blankToUndefined, z.coerce.number().positive().finite().optional()),
    anomalyThreshold: z.coerce.number().gt(0).lt(1),
  })
  .refine((value) => value.clipping !== "fixed" || value.maxNorm !== undefined, {
    path: ["maxNorm"],
    message: "fixed clipping needs a maximum norm",
  });
export type CreateFederationInput = z.output<typeof createFederationSchema>;

export const federationActionSchema = z.object({
  federationId: z.string().uuid(),
  reason: optionalText(500),
});
export type FederationActionInput = z.output<typeof federationActionSchema>;

export const issueTokenSchema = z.object({
  clientId: z.preprocess(
    blankToUndefined,
    z
      .string()
      .trim()
      .regex(
        CLIENT_ID,
        "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
      )
      .optional(),
  ),
  federationId: z.preprocess(blankToUndefined, z.string().uuid().optional()),
});
export type IssueTokenInput = z.output<typeof issueTokenSchema>;

export const clientActionSchema = z.object({
  clientId: z.string().regex(CLIENT_ID, "invalid client id"),
  reason: z.string().trim().min(1, "give a reason").max(500),
});
export type ClientActionInput = z.output<typeof clientActionSchema>;

export const acknowledgeAlertSchema = z.object({
  alertId: z.string().uuid(),
  note: z.string().trim().min(1, "write a note for the other operators").max(1000),
});
export type AcknowledgeAlertInput = z.output<typeof acknowledgeAlertSchema>;

export const resolveAlertSchema = z.object({
  alertId: z.string().uuid(),
  note: optionalText(1000),
});
export type ResolveAlertInput = z.output<typeof resolveAlertSchema>;

export const alertRuleSchema = z.object({
  name: z.string().trim().min(1, "name the rule").max(200),
  metric: z.string().trim().regex(METRIC_NAME, "expected a Prometheus metric name"),
  comparator: z.enum(COMPARATOR_VALUES),
  threshold: z.coerce.number().finite(),
  severity: z.enum(SEVERITY_VALUES),
  forSeconds: integer(0, 7 * 86_400),
  description: optionalText(1000),
  enabled: checkbox,
});
export type AlertRuleInput = z.output<typeof alertRuleSchema>;

export const createAccountSchema = z.object({
  email: z.string().trim().toLowerCase().email("expected an email address"),
  name: optionalText(200),
  role: z.enum(OPERATOR_ROLES),
  password: z
    .string()
    .min(MIN_OPERATOR_PASSWORD_LENGTH, `use at least ${MIN_OPERATOR_PASSWORD_LENGTH} characters`)
    .max(200),
});
export type CreateAccountInput = z.output<typeof createAccountSchema>;

/** Query string of the security event list and its JSON route. */
export const eventFiltersSchema = z.object({
  range: z.preprocess(blankToUndefined, z.enum(TIME_RANGE_VALUES).default("24h")),
  type: z.preprocess(blankToUndefined, z.enum(EVENT_TYPE_VALUES).optional()),
  severity: z.preprocess(blankToUndefined, z.enum(SEVERITY_VALUES).optional()),
  clientId: z.preprocess(blankToUndefined, z.string().trim().max(64).optional()),
  cursor: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{1,19}$/)
      .optional(),
  ),
});
export type EventFilters = z.output<typeof eventFiltersSchema>;

export const alertListSchema = z.object({
  state: z.preprocess(blankToUndefined, z.enum(ALERT_STATE_VALUES).default("open")),
});

export const metricQuerySchema = z.object({
  name: z.preprocess(blankToUndefined, z.string().regex(METRIC_NAME).optional()),
  range: z.preprocess(blankToUndefined, z.enum(TIME_RANGE_VALUES).default("1h")),
});
export type MetricQuery = z.output<typeof metricQuerySchema>;

/** Field name to first error message, for showing beside each form control. */
export type FieldErrors = Record<string, string>;

/** Returns the first message per field of a failed parse. */
export function fieldErrorsOf(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = issue.path.length > 0 ? issue.path.join(".") : "form";
    errors[field] ??= issue.message;
  }
  return errors;
}

/** Converts URLSearchParams or a Next.js searchParams object into a plain record of strings. */
export function searchParamsRecord(
  params: URLSearchParams | Record<string, string | string[] | undefined>,
): Record<string, string> {
  const record: Record<string, string> = {};
  if (params instanceof URLSearchParams) {
    for (const [key, value] of params) record[key] ??= value;
    return record;
  }
  for (const [key, value] of Object.entries(params)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) record[key] = first;
  }
  return record;
}

/** The demo federation takes no input: it always runs the earlier system's integration example. */
export const runDemoSchema = z.object({}).strip();
