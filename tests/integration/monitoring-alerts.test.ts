import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "@/lib/db";
import type { Comparator } from "@/lib/generated/prisma/client";
import { AlertManager, createWebhookNotifier } from "@/lib/monitoring/alerts";
import { verifyChain } from "@/lib/monitoring/chain";
import { AlertNotFoundError, AlertTransitionError } from "@/lib/monitoring/errors";
import { MetricsCollector } from "@/lib/monitoring/metrics";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let prisma: PrismaClient;
let metrics: MetricsCollector;
let alerts: AlertManager;

beforeAll(async () => {
  database = await createTestDatabase();
  prisma = createPrismaClient(database.url);
  metrics = new MetricsCollector(prisma);
  alerts = new AlertManager(prisma, { notifier: null });
});

// evaluateRules evaluates every enabled rule, so each test starts with none enabled.
afterEach(async () => {
  await prisma.alertRule.updateMany({ data: { enabled: false } });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

const t0 = new Date("2026-06-01T12:00:00.000Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

async function eventsFor(alertId: string) {
  const rows = await prisma.securityEvent.findMany({ orderBy: { sequence: "asc" } });
  return rows.filter((row) => (row.metadata as { alertId?: string }).alertId === alertId);
}

describe("rule alerts", () => {
  it("fire, deduplicate, acknowledge and auto-resolve", async () => {
    const rule = await alerts.configureThreshold("cpu_busy_percent", 80, "high", {
      description: "worker CPU above 80%",
    });
    expect(rule.name).toBe("cpu_busy_percent gt 80");
    await metrics.recordMetric("cpu_busy_percent", 93, at(0), { worker: "w1" });

    const first = await alerts.evaluateRules(at(1));
    expect(first.created).toHaveLength(1);
    const alert = first.created[0];
    expect(alert.state).toBe("open");
    expect(alert.count).toBe(1);
    expect(alert.value).toBe(93);
    expect(alert.labels).toEqual({ worker: "w1" });
    expect(alert.ruleId).toBe(rule.id);
    expect(alert.description).toBe("worker CPU above 80%");

    const second = await alerts.evaluateRules(at(31));
    expect(second.created).toHaveLength(0);
    expect(second.repeated.map((a) => a.id)).toEqual([alert.id]);
    expect(second.repeated[0].count).toBe(2);
    expect(second.repeated[0].lastSeenAt.toISOString()).toBe(at(31).toISOString());
    expect(await prisma.alert.count({ where: { ruleId: rule.id } })).toBe(1);

    const acknowledged = await alerts.acknowledgeAlert(alert.id, "op-7", "looking into it");
    expect(acknowledged.state).toBe("acknowledged");
    expect(acknowledged.acknowledgedById).toBe("op-7");
    expect(acknowledged.acknowledgementNote).toBe("looking into it");

    // Still breaching: the acknowledged alert keeps counting.
    const third = await alerts.evaluateRules(at(61));
    expect(third.repeated[0].state).toBe("acknowledged");
    expect(third.repeated[0].count).toBe(3);

    await metrics.recordMetric("cpu_busy_percent", 40, at(70), { worker: "w1" });
    const recovered = await alerts.evaluateRules(at(71));
    expect(recovered.resolved.map((a) => a.id)).toEqual([alert.id]);
    const resolved = recovered.resolved[0];
    expect(resolved.state).toBe("resolved");
    expect(resolved.autoResolved).toBe(true);
    expect(resolved.resolvedById).toBeNull();
    expect(recovered.rules.find((r) => r.ruleId === rule.id)?.state).toBe("inactive");

    const events = await eventsFor(alert.id);
    expect(events.map((e) => [e.type, (e.metadata as { action?: string }).action])).toEqual([
      ["system", "alert fired"],
      ["operator_action", "acknowledge alert"],
      ["system", "alert auto-resolved"],
    ]);
    expect(events[0].severity).toBe("high");
    expect(events[1].operatorId).toBe("op-7");
    expect((await verifyChain(prisma)).ok).toBe(true);
  });

  it("fire again after a manual resolve", async () => {
    const rule = await alerts.configureThreshold("queue_depth", 100, "medium", {
      comparator: "gte",
    });
    await metrics.recordMetric("queue_depth", 100, at(0));
    const [alert] = (await alerts.evaluateRules(at(1))).created;

    const resolved = await alerts.resolveAlert(alert.id, "op-1", "drained by hand");
    expect(resolved.state).toBe("resolved");
    expect(resolved.autoResolved).toBe(false);
    expect(resolved.resolvedById).toBe("op-1");
    expect(resolved.resolutionNote).toBe("drained by hand");
    const events = await eventsFor(alert.id);
    expect(events.at(-1)?.type).toBe("operator_action");
    expect(events.at(-1)?.operatorId).toBe("op-1");

    const again = await alerts.evaluateRules(at(2));
    expect(again.created).toHaveLength(1);
    expect(again.created[0].id).not.toBe(alert.id);
    expect(again.created[0].fingerprint).toBe(alert.fingerprint);
    expect(await prisma.alert.count({ where: { ruleId: rule.id } })).toBe(2);
  });

  it("resolve without an operator logs a system event", async () => {
    const { alert } = await alerts.createAlert("manual check", "raised by code", "low");
    const resolved = await alerts.resolveAlert(alert.id);
    expect(resolved.resolvedById).toBeNull();
    const events = await eventsFor(alert.id);
    expect(events.map((e) => e.type)).toEqual(["system", "system"]);
  });

  it.each<[Comparator, string[]]>([
    ["gt", ["6"]],
    ["gte", ["5", "6"]],
    ["lt", ["4"]],
    ["lte", ["4", "5"]],
    ["eq", ["5"]],
    ["ne", ["4", "6"]],
  ])("comparator %s fires for the right series", async (comparator, expected) => {
    const metric = `cmp_${comparator}`;
    for (const v of [4, 5, 6]) await metrics.recordMetric(metric, v, at(0), { v: String(v) });
    const rule = await alerts.configureThreshold(metric, 5, "low", { comparator });

    const result = await alerts.evaluateRules(at(1));

    const fired = result.created.filter((a) => a.ruleId === rule.id);
    expect(fired.map((a) => (a.labels as { v: string }).v).sort()).toEqual(expected);
  });

  it("keep a rule pending for its for duration", async () => {
    const rule = await alerts.configureThreshold("error_rate", 0.05, "critical", {
      forSeconds: 60,
    });
    await metrics.recordMetric("error_rate", 0.2, at(0));

    const pending = await alerts.evaluateRules(at(0));
    expect(pending.created).toHaveLength(0);
    expect(pending.rules[0].state).toBe("pending");
    const stored = await prisma.alertRule.findUniqueOrThrow({ where: { id: rule.id } });
    expect(stored.pendingSince?.toISOString()).toBe(at(0).toISOString());

    expect((await alerts.evaluateRules(at(59))).created).toHaveLength(0);
    const firing = await alerts.evaluateRules(at(60));
    expect(firing.rules[0].state).toBe("firing");
    expect(firing.created).toHaveLength(1);
    expect(firing.created[0].severity).toBe("critical");

    await metrics.recordMetric("error_rate", 0.01, at(90));
    const cleared = await alerts.evaluateRules(at(91));
    expect(cleared.resolved).toHaveLength(1);
    const reset = await prisma.alertRule.findUniqueOrThrow({ where: { id: rule.id } });
    expect(reset.pendingSince).toBeNull();

    // A new breach waits the full duration again.
    await metrics.recordMetric("error_rate", 0.3, at(120));
    expect((await alerts.evaluateRules(at(121))).created).toHaveLength(0);
    expect((await alerts.evaluateRules(at(180))).created).toHaveLength(0);
    expect((await alerts.evaluateRules(at(181))).created).toHaveLength(1);
  });

  it("select series by labels and ignore stale ones", async () => {
    const rule = await alerts.configureThreshold("heap_ratio", 0.9, "medium", {
      labels: { worker: "w2" },
    });
    await metrics.recordMetric("heap_ratio", 0.95, at(0), { worker: "w1" });
    await metrics.recordMetric("heap_ratio", 0.97, at(0), { worker: "w2", pool: "x" });
    const result = await alerts.evaluateRules(at(10));
    expect(result.created.map((a) => a.labels)).toEqual([{ pool: "x", worker: "w2" }]);

    // An hour and a bit later the only sample is stale, so the alert resolves.
    const later = await alerts.evaluateRules(at(3_700));
    expect(later.resolved.map((a) => a.ruleId)).toEqual([rule.id]);
    expect(later.rules[0].breachingSeries).toBe(0);
  });

  it("upsert a rule by name", async () => {
    const first = await alerts.configureThreshold("disk_used_ratio", 0.8, "medium", {
      name: "disk almost full",
    });
    const second = await alerts.configureThreshold("disk_used_ratio", 0.9, "high", {
      name: "disk almost full",
      comparator: "gte",
    });
    expect(second.id).toBe(first.id);
    expect(second.threshold).toBe(0.9);
    expect(second.comparator).toBe("gte");
    expect(await prisma.alertRule.count({ where: { name: "disk almost full" } })).toBe(1);
  });

  it("rejects invalid rule definitions", async () => {
    await expect(alerts.configureThreshold("bad name", 1, "low")).rejects.toThrow(
      /invalid metric name "bad name"/,
    );
    await expect(alerts.configureThreshold("m", Number.NaN, "low")).rejects.toThrow(
      /invalid threshold NaN/,
    );
    await expect(alerts.configureThreshold("m", 1, "urgent" as never)).rejects.toThrow(
      /invalid severity "urgent"/,
    );
    await expect(
      alerts.configureThreshold("m", 1, "low", { comparator: "between" as never }),
    ).rejects.toThrow(/invalid comparator "between"/);
    await expect(alerts.configureThreshold("m", 1, "low", { forSeconds: -1 })).rejects.toThrow(
      /invalid forSeconds -1/,
    );
  });
});

describe("alert lifecycle", () => {
  it("rejects invalid transitions", async () => {
    const { alert } = await alerts.createAlert("lifecycle", "transition checks", "medium");
    await alerts.acknowledgeAlert(alert.id, "op-1", "mine");
    await expect(alerts.acknowledgeAlert(alert.id, "op-2", "again")).rejects.toThrow(
      AlertTransitionError,
    );
    await alerts.resolveAlert(alert.id, "op-1");

    const ack = alerts.acknowledgeAlert(alert.id, "op-1", "late");
    await expect(ack).rejects.toBeInstanceOf(AlertTransitionError);
    await expect(ack).rejects.toThrow(/cannot acknowledge alert .*: it is resolved, expected open/);
    await expect(alerts.resolveAlert(alert.id, "op-1")).rejects.toThrow(
      /cannot resolve alert .*: it is resolved, expected open or acknowledged/,
    );
    await expect(alerts.acknowledgeAlert("no-such-alert", "op-1")).rejects.toBeInstanceOf(
      AlertNotFoundError,
    );
    await expect(alerts.resolveAlert("no-such-alert")).rejects.toBeInstanceOf(AlertNotFoundError);
    await expect(alerts.acknowledgeAlert(alert.id, "")).rejects.toThrow(/invalid operatorId ""/);

    const stored = await prisma.alert.findUniqueOrThrow({ where: { id: alert.id } });
    expect(stored.state).toBe("resolved");
    expect(stored.acknowledgementNote).toBe("mine");
  });

  it("deduplicates createAlert by title and labels", async () => {
    const a = await alerts.createAlert("replay detected", "nonce reused", "high", {
      labels: { client_id: "c1" },
    });
    const b = await alerts.createAlert("replay detected", "nonce reused", "high", {
      labels: { client_id: "c1" },
    });
    const c = await alerts.createAlert("replay detected", "nonce reused", "high", {
      labels: { client_id: "c2" },
    });
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.alert.id).toBe(a.alert.id);
    expect(b.alert.count).toBe(2);
    expect(c.created).toBe(true);
    expect(c.alert.id).not.toBe(a.alert.id);
  });

  it("deduplicates concurrent raises from two clients", async () => {
    const other = createPrismaClient(database.url);
    try {
      const managers = [alerts, new AlertManager(other, { notifier: null })];
      const raised = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          managers[i % 2].createAlert("burst", "raised concurrently", "medium", {
            labels: { source: "race" },
          }),
        ),
      );
      expect(raised.filter((r) => r.created)).toHaveLength(1);
    } finally {
      await other.$disconnect();
    }
    const rows = await prisma.alert.findMany({ where: { title: "burst" } });
    expect(rows).toHaveLength(1);
    expect(rows[0].count).toBe(12);
  });

  it("lists active alerts with filters", async () => {
    const low = await alerts.createAlert("filter low", "x", "low", { labels: { team: "ml" } });
    const critical = await alerts.createAlert("filter critical", "x", "critical", {
      labels: { team: "ml" },
    });
    const resolvedAlert = await alerts.createAlert("filter gone", "x", "critical", {
      labels: { team: "ml" },
    });
    await alerts.resolveAlert(resolvedAlert.alert.id);

    const ml = await alerts.getActiveAlerts({ labels: { team: "ml" } });
    expect(ml.map((a) => a.id)).toEqual([critical.alert.id, low.alert.id]);
    const criticalOnly = await alerts.getActiveAlerts({
      severity: "critical",
      labels: { team: "ml" },
    });
    expect(criticalOnly.map((a) => a.id)).toEqual([critical.alert.id]);
    const resolved = await alerts.getActiveAlerts({ states: ["resolved"], labels: { team: "ml" } });
    expect(resolved.map((a) => a.id)).toEqual([resolvedAlert.alert.id]);
  });
});

describe("webhook notifications", () => {
  let server: Server;
  let url: string;
  const requests: { at: number; body: Record<string, unknown>; contentType?: string }[] = [];
  let answers: number[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        requests.push({
          at: Date.now(),
          body: JSON.parse(body),
          contentType: req.headers["content-type"],
        });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/qsfl`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("retries a firing alert and sends its resolution", async () => {
    const manager = new AlertManager(prisma, {
      notifier: createWebhookNotifier(url, { initialDelayMs: 50, maxAttempts: 4 }),
    });
    answers = [500, 500, 200];
    const { alert } = await manager.createAlert("quorum lost", "2 of 5 clients", "critical", {
      labels: { federation_id: "fed-9" },
    });

    expect(requests).toHaveLength(3);
    for (const request of requests) expect(request.body).toEqual(requests[0].body);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(45);
    expect(requests[2].at - requests[1].at).toBeGreaterThanOrEqual(95);
    const payload = requests[0].body as {
      version: string;
      status: string;
      alert: Record<string, unknown>;
    };
    expect(requests[0].contentType).toBe("application/json");
    expect(payload.version).toBe("1");
    expect(payload.status).toBe("firing");
    expect(payload.alert).toMatchObject({
      id: alert.id,
      title: "quorum lost",
      description: "2 of 5 clients",
      severity: "critical",
      state: "open",
      labels: { federation_id: "fed-9" },
      count: 1,
    });

    // A repeat does not notify; the resolution does.
    await manager.createAlert("quorum lost", "2 of 5 clients", "critical", {
      labels: { federation_id: "fed-9" },
    });
    expect(requests).toHaveLength(3);
    await manager.resolveAlert(alert.id, "op-3", "clients back");
    expect(requests).toHaveLength(4);
    const resolution = requests[3].body as { status: string; alert: Record<string, unknown> };
    expect(resolution.status).toBe("resolved");
    expect(resolution.alert).toMatchObject({ id: alert.id, state: "resolved", count: 2 });
  });
});
