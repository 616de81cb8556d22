/**
 * Alerts and threshold rules for the dashboard's alerts pages, with the operators who
 * acknowledged or resolved each alert shown by email.
 */
import type { AlertState, Comparator, PrismaClient, Severity } from "../generated/prisma/client";
import { AlertManager } from "../monitoring/alerts";
import { iso, isoRequired } from "./time";

export interface AlertRow {
  id: string;
  title: string;
  description: string;
  severity: Severity;
  state: AlertState;
  labels: Record<string, string>;
  value: number | null;
  count: number;
  ruleName: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgementNote: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
  autoResolved: boolean;
}

export interface AlertList {
  state: AlertState;
  alerts: AlertRow[];
  counts: Record<AlertState, number>;
}

export interface AlertRuleRow {
  id: string;
  name: string;
  metric: string;
  comparator: Comparator;
  threshold: number;
  severity: Severity;
  forSeconds: number;
  labels: Record<string, string>;
  description: string | null;
  enabled: boolean;
  pendingSince: string | null;
  updatedAt: string;
}

/** Alerts listed per tab. */
export const ALERT_LIST_LIMIT = 200;

/** Returns the alerts in one state, worst and latest first, and the count of every state. */
export async function listAlerts(prisma: PrismaClient, state: AlertState): Promise<AlertList> {
  const alerts = await new AlertManager(prisma, { notifier: null }).getActiveAlerts({
    states: [state],
    limit: ALERT_LIST_LIMIT,
  });
  const ruleIds = [...new Set(alerts.map((a) => a.ruleId).filter((id) => id !== null))];
  const operatorIds = [
    ...new Set(
      alerts
        .flatMap((a) => [a.acknowledgedById, a.resolvedById])
        .filter((id): id is string => id !== null),
    ),
  ];
  const [rules, operators, grouped] = await Promise.all([
    prisma.alertRule.findMany({ where: { id: { in: ruleIds } }, select: { id: true, name: true } }),
    prisma.user.findMany({
      where: { id: { in: operatorIds } },
      select: { id: true, email: true },
    }),
    prisma.alert.groupBy({ by: ["state"], _count: { _all: true } }),
  ]);
  const email = (id: string | null) =>
    id === null ? null : (operators.find((o) => o.id === id)?.email ?? id);
  const counts: Record<AlertState, number> = { open: 0, acknowledged: 0, resolved: 0 };
  for (const row of grouped) counts[row.state] = row._count._all;
  return {
    state,
    counts,
    alerts: alerts.map((alert) => ({
      id: alert.id,
      title: alert.title,
      description: alert.description,
      severity: alert.severity,
      state: alert.state,
      labels: (alert.labels ?? {}) as Record<string, string>,
      value: alert.value,
      count: alert.count,
      ruleName: rules.find((r) => r.id === alert.ruleId)?.name ?? null,
      firstSeenAt: isoRequired(alert.firstSeenAt),
      lastSeenAt: isoRequired(alert.lastSeenAt),
      acknowledgedAt: iso(alert.acknowledgedAt),
      acknowledgedBy: email(alert.acknowledgedById),
      acknowledgementNote: alert.acknowledgementNote,
      resolvedAt: iso(alert.resolvedAt),
      resolvedBy: email(alert.resolvedById),
      resolutionNote: alert.resolutionNote,
      autoResolved: alert.autoResolved,
    })),
  };
}

/** Returns every threshold rule, by name. */
export async function listAlertRules(prisma: PrismaClient): Promise<AlertRuleRow[]> {
  const rules = await new AlertManager(prisma, { notifier: null }).listRules();
  return rules.map((rule) => ({
    id: rule.id,
    name: rule.name,
    metric: rule.metric,
    comparator: rule.comparator,
    threshold: rule.threshold,
    severity: rule.severity,
    forSeconds: rule.forSeconds,
    labels: (rule.labels ?? {}) as Record<string, string>,
    description: rule.description,
    enabled: rule.enabled,
    pendingSince: iso(rule.pendingSince),
    updatedAt: isoRequired(rule.updatedAt),
  }));
}
