/**
 * Alert management on PostgreSQL with AlertManager: threshold rules over stored metrics,
 * evaluated through six simulated system conditions, then acknowledged, resolved by hand, and
 * auto-resolved when their condition clears.
 *
 * Each scenario records one sample of every watched metric and evaluates the rules at that
 * sample's time. The scenarios are one simulated minute apart, within the last ten minutes, so
 * the run does not wait. Every alert transition is also written to the security event log.
 *
 * Success: each rule fires in the scenario that breaches it and in no other. The acknowledged
 * alert and every other rule alert resolve automatically once their metric is back under its
 * threshold. The operator resolves the critical alert raised from code, which leaves no active
 * alert.
 */
import { loadConfig } from "@/lib/config";
import type { Severity } from "@/lib/generated/prisma/client";
import { AlertManager } from "@/lib/monitoring/alerts";
import { MetricsCollector } from "@/lib/monitoring/metrics";
import { heading, isEntryPoint, runExample, SuccessChecks, withExampleDatabase } from "./support";

const THRESHOLDS: [metric: string, threshold: number, severity: Severity][] = [
  ["cpu_usage_percent", 80, "high"],
  ["memory_usage_percent", 85, "high"],
  ["anomaly_rate", 0.2, "medium"],
  ["auth_failures", 5, "high"],
  ["model_accuracy_drop", 0.1, "medium"],
];

const NORMAL = {
  cpu_usage_percent: 45,
  memory_usage_percent: 60,
  anomaly_rate: 0.05,
  auth_failures: 0,
  model_accuracy_drop: 0,
};

const SCENARIOS: { name: string; metrics: Partial<typeof NORMAL>; breaches: string[] }[] = [
  { name: "Normal operation", metrics: {}, breaches: [] },
  {
    name: "High CPU load",
    metrics: { cpu_usage_percent: 85, memory_usage_percent: 70, anomaly_rate: 0.08 },
    breaches: ["cpu_usage_percent"],
  },
  {
    name: "Memory pressure",
    metrics: { cpu_usage_percent: 60, memory_usage_percent: 90, anomaly_rate: 0.12 },
    breaches: ["memory_usage_percent"],
  },
  {
    name: "Security incident",
    metrics: {
      cpu_usage_percent: 70,
      memory_usage_percent: 75,
      anomaly_rate: 0.25,
      auth_failures: 8,
    },
    breaches: ["anomaly_rate", "auth_failures"],
  },
  {
    name: "Model degradation",
    metrics: { cpu_usage_percent: 50, memory_usage_percent: 65, model_accuracy_drop: 0.15 },
    breaches: ["model_accuracy_drop"],
  },
  { name: "Recovery", metrics: { cpu_usage_percent: 40, memory_usage_percent: 55 }, breaches: [] },
];

const OPERATOR = "operator@example.test";

export async function main(): Promise<number> {
  const checks = new SuccessChecks();

  await withExampleDatabase(loadConfig(), async ({ prisma }) => {
    const metrics = new MetricsCollector(prisma);
    const alerts = new AlertManager(prisma, { notifier: null });

    heading("Thresholds");
    const ruleMetric = new Map<string, string>();
    for (const [metric, threshold, severity] of THRESHOLDS) {
      const rule = await alerts.configureThreshold(metric, threshold, severity);
      ruleMetric.set(rule.id, metric);
      console.log(`  ${rule.name} (${severity})`);
    }

    const start = Date.now() - 10 * 60_000;
    let acknowledgedId: string | null = null;
    const firedIn = new Map<string, string[]>();
    const resolvedIn = new Map<string, string[]>();
    for (const [i, scenario] of SCENARIOS.entries()) {
      heading(`Scenario: ${scenario.name}`);
      const now = new Date(start + i * 60_000);
      const values = { ...NORMAL, ...scenario.metrics };
      for (const [name, value] of Object.entries(values)) {
        await metrics.recordMetric(name, value, now);
      }
      const result = await alerts.evaluateRules(now);
      for (const alert of result.created) {
        console.log(`  ALERT ${alert.severity.toUpperCase()}: ${alert.description}`);
      }
      for (const alert of result.resolved) {
        console.log(`  resolved: ${alert.title}`);
      }
      if (result.created.length === 0 && result.resolved.length === 0) {
        console.log("  no alert fired or resolved");
      }
      const metricOf = (ruleId: string | null) => (ruleId ? (ruleMetric.get(ruleId) ?? "") : "");
      firedIn.set(scenario.name, result.created.map((a) => metricOf(a.ruleId)).sort());
      resolvedIn.set(scenario.name, result.resolved.map((a) => metricOf(a.ruleId)).sort());
      checks.check(
        sameList(firedIn.get(scenario.name) ?? [], [...scenario.breaches].sort()),
        `${scenario.name}: fires exactly ${scenario.breaches.length === 0 ? "nothing" : scenario.breaches.join(" and ")}`,
      );

      if (scenario.name === "Security incident") {
        const authAlert = result.created.find((a) => metricOf(a.ruleId) === "auth_failures");
        if (authAlert) {
          const acknowledged = await alerts.acknowledgeAlert(
            authAlert.id,
            OPERATOR,
            "investigating the failed sign-ins",
          );
          acknowledgedId = acknowledged.id;
          console.log(`  ${OPERATOR} acknowledged "${acknowledged.title}"`);
        }
      }
    }
    checks.check(
      (resolvedIn.get("Memory pressure") ?? []).includes("cpu_usage_percent"),
      "CPU alert resolves automatically when CPU drops back",
    );
    checks.check(
      (resolvedIn.get("Model degradation") ?? []).includes("auth_failures"),
      "acknowledged authentication alert resolves automatically when failures stop",
    );

    heading("Alert raised from code");
    const raised = await alerts.createAlert(
      "System under attack",
      "Several malicious clients detected with coordinated attack patterns",
      "critical",
    );
    const active = await alerts.getActiveAlerts();
    console.log(`Active alerts: ${active.length}`);
    for (const alert of active) {
      console.log(`  ${alert.severity.toUpperCase()} ${alert.state}: ${alert.title}`);
    }
    checks.check(
      active.length === 1 && active[0].id === raised.alert.id,
      "only the critical alert is active after recovery",
    );
    const resolved = await alerts.resolveAlert(raised.alert.id, OPERATOR, "attackers quarantined");
    console.log(`${OPERATOR} resolved "${resolved.title}": ${resolved.resolutionNote}`);
    checks.check((await alerts.getActiveAlerts()).length === 0, "no alert remains active");

    heading("Summary");
    const all = await prisma.alert.findMany({ orderBy: { firstSeenAt: "asc" } });
    for (const alert of all) {
      const resolution = alert.autoResolved ? "auto-resolved" : `resolved by ${alert.resolvedById}`;
      const acknowledged =
        alert.id === acknowledgedId ? `, acknowledged by ${alert.acknowledgedById}` : "";
      console.log(`  ${alert.severity.padEnd(8)} ${alert.title}: ${resolution}${acknowledged}`);
    }
    const operatorEvents = await prisma.securityEvent.count({ where: { type: "operator_action" } });
    console.log(`Operator actions in the security event log: ${operatorEvents}`);
    checks.check(operatorEvents === 2, "the acknowledgement and the manual resolution are logged");
  });

  return checks.finish();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

if (isEntryPoint(import.meta.url)) void runExample(main);
