/**
 * Prometheus text exposition (format 0.0.4) for GET /api/metrics, built with prom-client on
 * registries of our own, never prom-client's global one.
 *
 * - The serving process's own metrics come from prom-client's default collectors on one
 *   process-wide registry.
 * - Stored metrics become one gauge per name (a counter when the name ends in `_total` and no
 *   value is negative), with the latest value of each label set. Federated-learning metrics are
 *   always exposed. Any other stored series is exposed while its latest sample is younger than
 *   `recentSeconds` (default 300), so a stopped worker's series disappear.
 * - When the database cannot be read, the output still contains the process metrics, and the gauge
 *   `metrics_database_up` is 0.
 *
 * Scrapes authenticate with `Authorization: Bearer <QSFL_METRICS_TOKEN>`. The token check
 * compares SHA-256 digests with crypto.timingSafeEqual, so neither the length nor the content of
 * the token leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { PrismaClient, Severity } from "../generated/prisma/client";
import { logger } from "../logger";
import { FL_METRICS, type LatestMetricValue, METRIC_HELP, MetricsCollector } from "./metrics";
import { canonicalJson, SEVERITIES } from "./security-events";

export const DEFAULT_RECENT_SECONDS = 300;

// Names this module exposes itself. Stored series with these names are left out.
const OWN_METRIC_NAMES = ["metrics_database_up", "alerts_active"];

const globalForMetrics = globalThis as unknown as { qsflProcessRegistry?: Registry };

/** Returns the registry with this process's default metrics, created on first use. */
export function getProcessRegistry(): Registry {
  if (!globalForMetrics.qsflProcessRegistry) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    globalForMetrics.qsflProcessRegistry = registry;
  }
  return globalForMetrics.qsflProcessRegistry;
}

/** Returns whether an Authorization header carries `Bearer <token>` for the expected token. */
export function isAuthorizedScrape(authorization: string | null, expectedToken: string): boolean {
  if (typeof expectedToken !== "string" || expectedToken === "") {
    throw new TypeError("invalid expectedToken: expected a non-empty string");
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
  if (!match) return false;
  const presented = createHash("sha256").update(match[1]).digest();
  const expected = createHash("sha256").update(expectedToken).digest();
  return timingSafeEqual(presented, expected);
}

const warnedShadowedNames = new Set<string>();

const REJECTION_LOG_INTERVAL_MS = 60_000;
let rejectedSinceLog = 0;
let lastRejectionLogMs = Number.NEGATIVE_INFINITY;

/** Logs rejected scrapes at most once a minute, with the number rejected since the last line. */
export function logRejectedScrape(nowMs: number = Date.now()): void {
  rejectedSinceLog += 1;
  if (nowMs - lastRejectionLogMs < REJECTION_LOG_INTERVAL_MS) return;
  logger.warn(
    { rejected: rejectedSinceLog, route: "/api/metrics" },
    "metrics scrape rejected: missing or invalid bearer token",
  );
  rejectedSinceLog = 0;
  lastRejectionLogMs = nowMs;
}

export interface ExpositionOptions {
  recentSeconds?: number;
  now?: Date;
}

export interface Exposition {
  contentType: string;
  body: string;
  databaseUp: boolean;
}

/** Renders the process metrics and the latest stored values in Prometheus text format. */
export async function renderPrometheusMetrics(
  prisma: PrismaClient,
  options: ExpositionOptions = {},
): Promise<Exposition> {
  const recentSeconds = options.recentSeconds ?? DEFAULT_RECENT_SECONDS;
  if (!Number.isFinite(recentSeconds) || recentSeconds <= 0) {
    throw new TypeError(`invalid recentSeconds ${recentSeconds}, expected a positive number`);
  }
  const now = options.now ?? new Date();
  const processRegistry = getProcessRegistry();
  const stored = new Registry();

  let databaseUp = true;
  try {
    const values = await latestExposedValues(prisma, now, recentSeconds);
    const reserved = new Set([
      ...(await processRegistry.getMetricsAsJSON()).map((metric) => metric.name),
      ...OWN_METRIC_NAMES,
    ]);
    addStoredMetrics(stored, values, reserved);
    await addAlertGauge(stored, prisma);
  } catch (error) {
    databaseUp = false;
    logger.warn({ err: error }, "metrics exposition could not read the database");
  }
  const up = new Gauge({
    name: "metrics_database_up",
    help: "1 when the stored metrics could be read for this scrape, 0 otherwise.",
    registers: [stored],
  });
  up.set(databaseUp ? 1 : 0);

  const merged = Registry.merge([processRegistry, stored]);
  return { contentType: merged.contentType, body: await merged.metrics(), databaseUp };
}

async function latestExposedValues(
  prisma: PrismaClient,
  now: Date,
  recentSeconds: number,
): Promise<LatestMetricValue[]> {
  const collector = new MetricsCollector(prisma);
  const [always, recent] = await Promise.all([
    collector.getLatestValues({ names: Object.values(FL_METRICS) }),
    collector.getLatestValues({ since: new Date(now.getTime() - recentSeconds * 1000) }),
  ]);
  const byKey = new Map<string, LatestMetricValue>();
  for (const value of [...always, ...recent]) {
    const key = `${value.name}\n${canonicalJson(value.labels)}`;
    const seen = byKey.get(key);
    if (!seen || seen.timestamp.getTime() < value.timestamp.getTime()) byKey.set(key, value);
  }
  return [...byKey.values()];
}

function addStoredMetrics(
  registry: Registry,
  values: LatestMetricValue[],
  reserved: Set<string>,
): void {
  const byName = new Map<string, LatestMetricValue[]>();
  for (const value of values) {
    if (reserved.has(value.name)) {
      if (!warnedShadowedNames.has(value.name)) {
        warnedShadowedNames.add(value.name);
        logger.warn(
          { metric: value.name },
          "stored metric left out of the exposition because a built-in metric has its name",
        );
      }
      continue;
    }
    byName.set(value.name, [...(byName.get(value.name) ?? []), value]);
  }
  for (const [name, series] of [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const labelNames = [...new Set(series.flatMap((s) => Object.keys(s.labels)))].sort();
    const help = METRIC_HELP[name] ?? `Latest stored value of ${name}.`;
    const counter = name.endsWith("_total") && series.every((s) => s.value >= 0);
    if (counter) {
      const metric = new Counter({ name, help, labelNames, registers: [registry] });
      for (const s of series) metric.inc(s.labels, s.value);
    } else {
      const metric = new Gauge({ name, help, labelNames, registers: [registry] });
      for (const s of series) metric.set(s.labels, s.value);
    }
  }
}

async function addAlertGauge(registry: Registry, prisma: PrismaClient): Promise<void> {
  const rows = await prisma.alert.groupBy({
    by: ["severity"],
    where: { state: { in: ["open", "acknowledged"] } },
    _count: { _all: true },
  });
  const gauge = new Gauge({
    name: "alerts_active",
    help: "Open and acknowledged alerts, by severity.",
    labelNames: ["severity"],
    registers: [registry],
  });
  for (const severity of SEVERITIES as readonly Severity[]) {
    gauge.set({ severity }, rows.find((row) => row.severity === severity)?._count._all ?? 0);
  }
}
