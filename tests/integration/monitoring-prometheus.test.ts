import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import { AlertManager } from "@/lib/monitoring/alerts";
import { MetricsCollector, PROCESS_METRICS } from "@/lib/monitoring/metrics";
import { renderPrometheusMetrics } from "@/lib/monitoring/prometheus";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

const TOKEN = "test-scrape-token-5f1c";

let database: TestDatabase;
let prisma: PrismaClient;
let GET: (request: Request) => Promise<Response>;
const savedEnv = {
  DATABASE_URL: process.env.DATABASE_URL,
  QSFL_METRICS_TOKEN: process.env.QSFL_METRICS_TOKEN,
};

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  // The route uses the process-wide client from getPrisma(), created from DATABASE_URL.
  process.env.DATABASE_URL = database.url;
  ({ GET } = await import("@/app/api/metrics/route"));

  const metrics = new MetricsCollector(prisma);
  await metrics.recordRoundMetrics({
    federationId: "fed-a",
    roundNumber: 3,
    durationSeconds: 42.5,
    accepted: 7,
    rejected: 1,
    anomalies: 1,
    quarantined: 1,
    testAccuracy: 0.875,
    testLoss: 0.41,
    // Round metrics are exposed however old they are.
    timestamp: new Date(Date.now() - 86_400_000),
  });
  await metrics.recordMetric(PROCESS_METRICS.cpuPercent, 12.5, undefined, { worker: "w-1" });
  await metrics.recordMetric(PROCESS_METRICS.cpuPercent, 99, new Date(Date.now() - 3_600_000), {
    worker: "w-gone",
  });
  await metrics.recordMetric("custom_label_escape", 1, undefined, {
    note: 'a "quoted" \\ value\nline',
  });
  const alerts = new AlertManager(prisma, { notifier: null });
  await alerts.createAlert("exposition test", "x", "high");
});

afterAll(async () => {
  await prisma?.$disconnect();
  const { getPrisma } = await import("@/lib/db");
  await getPrisma().$disconnect();
  process.env.DATABASE_URL = savedEnv.DATABASE_URL;
  process.env.QSFL_METRICS_TOKEN = savedEnv.QSFL_METRICS_TOKEN;
  await database?.drop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
// Prometheus parses values with Go's strconv.ParseFloat, which accepts NaN and Inf in any case
// (prom-client 15 writes "Nan").
const VALUE = "(?:[-+]?(?:\\d+\\.?\\d*(?:[eE][-+]?\\d+)?|\\.\\d+)|[nN][aA][nN]|[-+]?[iI][nN][fF])";
const SAMPLE_LINE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (${VALUE})(?: -?\\d+)?$`,
);

/**
 * Parses Prometheus text format 0.0.4 strictly enough to catch malformed output: every sample
 * line is `name{labels} value`, and every sample belongs to a family whose HELP and TYPE came
 * earlier, with each family's lines contiguous.
 */
function parseExposition(text: string): Map<string, { type: string; samples: Sample[] }> {
  expect(text.endsWith("\n")).toBe(true);
  const families = new Map<string, { type: string; help: boolean; samples: Sample[] }>();
  let current: string | undefined;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help) {
      expect(help[1]).toMatch(new RegExp(`^${NAME}$`));
      expect(families.has(help[1]), `family ${help[1]} declared twice`).toBe(false);
      families.set(help[1], { type: "", help: true, samples: [] });
      current = help[1];
      continue;
    }
    if (type) {
      expect(type[1], `TYPE for ${type[1]} must follow its HELP`).toBe(current);
      const family = families.get(type[1]);
      expect(family?.type).toBe("");
      if (family) family.type = type[2];
      continue;
    }
    expect(line.startsWith("#"), `unexpected comment: ${line}`).toBe(false);
    const match = SAMPLE_LINE.exec(line);
    expect(match, `malformed sample line: ${JSON.stringify(line)}`).not.toBeNull();
    if (!match) continue;
    const [, name, labelText = "", value] = match;
    const family = current ? families.get(current) : undefined;
    const suffixes = family?.type === "histogram" ? ["_bucket", "_sum", "_count"] : [];
    const belongs =
      name === current ||
      (family?.type === "summary" && /_(sum|count)$/.test(name)) ||
      suffixes.some((suffix) => name === `${current}${suffix}`);
    expect(belongs, `sample ${name} is not in the preceding family ${current}`).toBe(true);
    expect(family?.type, `sample ${name} before its TYPE line`).not.toBe("");
    const labels: Record<string, string> = {};
    for (const pair of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2].replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    }
    family?.samples.push({ name, labels, value: Number(value.replace(/inf$/i, "Infinity")) });
  }
  return new Map([...families].map(([name, f]) => [name, { type: f.type, samples: f.samples }]));
}

function scrape(authorization?: string): Promise<Response> {
  const headers = authorization ? { authorization } : undefined;
  return GET(new Request("http://127.0.0.1/api/metrics", { headers }));
}

describe("GET /api/metrics", () => {
  it("returns 503 when no token is configured", async () => {
    delete process.env.QSFL_METRICS_TOKEN;
    const response = await scrape(`Bearer ${TOKEN}`);
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.error).toBe("metrics_disabled");
    expect(body.message).toContain("QSFL_METRICS_TOKEN");
  });

  it("returns 401 for a missing or wrong token", async () => {
    process.env.QSFL_METRICS_TOKEN = TOKEN;
    for (const header of [
      undefined,
      "Bearer",
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const response = await scrape(header);
      expect(response.status, `header ${header}`).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      const body = await response.json();
      expect(body.error).toBe("unauthorized");
      expect(typeof body.message).toBe("string");
    }
  });

  it("returns parseable Prometheus text for the right token", async () => {
    process.env.QSFL_METRICS_TOKEN = TOKEN;
    const response = await scrape(`Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    expect(response.headers.get("content-type")).toContain("version=0.0.4");
    const families = parseExposition(await response.text());

    const value = (name: string, labels: Record<string, string> = {}) =>
      families
        .get(name)
        ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(families.get("updates_accepted_total")?.type).toBe("counter");
    expect(value("updates_accepted_total", { federation_id: "fed-a" })).toBe(7);
    expect(families.get("test_accuracy")?.type).toBe("gauge");
    expect(value("test_accuracy", { federation_id: "fed-a" })).toBe(0.875);
    expect(value("round_duration_seconds", { federation_id: "fed-a" })).toBe(42.5);
    expect(value("round_number", { federation_id: "fed-a" })).toBe(3);
    expect(value(PROCESS_METRICS.cpuPercent, { worker: "w-1" })).toBe(12.5);
    expect(
      families.get(PROCESS_METRICS.cpuPercent)?.samples.some((s) => s.labels.worker === "w-gone"),
    ).toBe(false);
    expect(value("custom_label_escape")).toBe(1);
    expect(families.get("custom_label_escape")?.samples[0].labels.note).toBe(
      'a "quoted" \\ value\nline',
    );
    expect(value("alerts_active", { severity: "high" })).toBe(1);
    expect(value("alerts_active", { severity: "low" })).toBe(0);
    expect(value("metrics_database_up")).toBe(1);
    // prom-client's default collectors describe the serving process.
    expect(families.get("process_cpu_user_seconds_total")?.type).toBe("counter");
    expect(families.has("nodejs_eventloop_lag_seconds")).toBe(true);
  });

  it("still serves process metrics when the database is down", async () => {
    const unreachable = createPrismaClient("postgresql://nobody:x@127.0.0.1:1/none");
    try {
      const exposition = await renderPrometheusMetrics(unreachable);
      expect(exposition.databaseUp).toBe(false);
      const families = parseExposition(exposition.body);
      expect(families.get("metrics_database_up")?.samples[0].value).toBe(0);
      expect(families.has("process_resident_memory_bytes")).toBe(true);
      expect(families.has("updates_accepted_total")).toBe(false);
    } finally {
      await unreachable.$disconnect();
    }
  });
});
