/**
 * Threshold alert rules over stored metrics, and the alert lifecycle, modelled on Prometheus
 * alerting rules and Alertmanager.
 *
 * - A rule selects the series of one metric whose labels contain the rule's labels and compares
 *   each series' latest value (no older than `staleAfterSeconds`) with the threshold.
 * - Deduplication: an alert's fingerprint is SHA-256 of the rule id (or, for alerts raised by code,
 *   the title) and the canonical JSON of its labels. While an alert with that fingerprint is open or
 *   acknowledged, firing again increments its `count` and moves `lastSeenAt` instead of adding a
 *   row. A transaction-scoped advisory lock on the fingerprint makes this hold across processes.
 * - "for": a rule whose condition holds for some series is pending (AlertRule.pendingSince) and
 *   raises no new alert until the condition has held for `forSeconds`. Pending state is kept per
 *   rule, not per series, because the schema stores one pendingSince per rule.
 * - Lifecycle: open -> acknowledged -> resolved, or open -> resolved. An alert resolves by an
 *   operator or code (resolveAlert) or automatically when its series no longer breaches
 *   (autoResolved). Every transition is logged to the security event log: operator transitions as
 *   operator_action, automatic ones as system.
 * - Notifications: a new alert and a resolution call the notifier (by default the webhook in
 *   config.monitoring.webhookUrl) after the database transaction has committed. Repeats do not
 *   notify.
 */
import type {
  Alert,
  AlertRule,
  AlertState,
  Comparator,
  Prisma,
  PrismaClient,
  Severity,
} from "../generated/prisma/client";
import { logger } from "../logger";
import {
  type AlertNotification,
  type AlertNotifier,
  createWebhookNotifier,
} from "./alert-notifications";
import { alertFingerprint, COMPARATOR_SYMBOLS, COMPARATORS, compareThreshold } from "./alert-rules";
import { AlertNotFoundError, AlertTransitionError } from "./errors";
import { lockedTransactionOptions } from "./locks";
import { assertMetricName, type MetricLabels, normalizeLabels } from "./metrics";
import { canonicalJson, SEVERITIES, SecurityEventLogger } from "./security-events";

export * from "./alert-notifications";
export * from "./alert-rules";

export const ACTIVE_ALERT_STATES = [
  "open",
  "acknowledged",
] as const satisfies readonly AlertState[];
export const DEFAULT_STALE_AFTER_SECONDS = 3600;

const ALERT_LOCK_NAMESPACE = 0x51534e; // "QSN"

export interface AlertManagerOptions {
  events?: SecurityEventLogger;
  /** Called for new and resolved alerts. Null disables notifications. */
  notifier?: AlertNotifier | null;
  /** URL for a webhook notifier, used when `notifier` is not given. Empty means none. */
  webhookUrl?: string;
  /** Series whose latest sample is older than this are ignored (default 3600). */
  staleAfterSeconds?: number;
}

export interface ThresholdOptions {
  comparator?: Comparator;
  forSeconds?: number;
  /** Only series whose labels contain these are compared. */
  labels?: MetricLabels;
  /** Unique rule name. Defaults to "<metric> <comparator> <threshold>" plus the labels. */
  name?: string;
  description?: string | null;
  enabled?: boolean;
}

export interface ActiveAlertFilters {
  severity?: Severity | Severity[];
  /** Defaults to open and acknowledged. */
  states?: AlertState[];
  ruleId?: string;
  /** Only alerts whose labels contain these. */
  labels?: MetricLabels;
  limit?: number;
}

export interface RuleEvaluation {
  ruleId: string;
  ruleName: string;
  state: "inactive" | "pending" | "firing";
  breachingSeries: number;
}

export interface EvaluationResult {
  evaluatedAt: Date;
  rules: RuleEvaluation[];
  /** Alerts created by this evaluation. */
  created: Alert[];
  /** Alerts that were already active and fired again. */
  repeated: Alert[];
  /** Alerts resolved because their condition cleared. */
  resolved: Alert[];
}

export interface RaisedAlert {
  alert: Alert;
  /** False when an active alert with the same fingerprint absorbed this one. */
  created: boolean;
}

interface AlertDraft {
  fingerprint: string;
  ruleId: string | null;
  title: string;
  description: string;
  severity: Severity;
  labels: MetricLabels;
  value: number | null;
}

export class AlertManager {
  private readonly events: SecurityEventLogger;
  private readonly notifier: AlertNotifier | null;
  private readonly staleAfterMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    options: AlertManagerOptions = {},
  ) {
    this.events = options.events ?? new SecurityEventLogger(prisma);
    if (options.notifier !== undefined) this.notifier = options.notifier;
    else this.notifier = options.webhookUrl ? createWebhookNotifier(options.webhookUrl) : null;
    const stale = options.staleAfterSeconds ?? DEFAULT_STALE_AFTER_SECONDS;
    if (!Number.isFinite(stale) || stale <= 0) {
      throw new RangeError(`invalid staleAfterSeconds ${stale}, expected a positive number`);
    }
    this.staleAfterMs = stale * 1000;
  }

  /** Creates or updates (by name) a threshold rule and returns it. */
  async configureThreshold(
    metric: string,
    threshold: number,
    severity: Severity,
    options: ThresholdOptions = {},
  ): Promise<AlertRule> {
    assertMetricName(metric);
    if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
      throw new RangeError(`invalid threshold ${String(threshold)}, expected a finite number`);
    }
    assertSeverity(severity);
    const comparator = options.comparator ?? "gt";
    if (!COMPARATORS.includes(comparator)) {
      throw new RangeError(
        `invalid comparator "${comparator}", expected one of ${COMPARATORS.join(", ")}`,
      );
    }
    const forSeconds = options.forSeconds ?? 0;
    if (!Number.isInteger(forSeconds) || forSeconds < 0) {
      throw new RangeError(`invalid forSeconds ${forSeconds}, expected a non-negative integer`);
    }
    const labels = normalizeLabels(options.labels);
    const labelText = Object.keys(labels).length > 0 ? ` ${canonicalJson(labels)}` : "";
    const name = options.name ?? `${metric} ${comparator} ${threshold}${labelText}`;
    if (typeof name !== "string" || name.trim() === "") {
      throw new TypeError(`invalid name ${JSON.stringify(name)}, expected a non-empty string`);
    }
    const definition = {
      metric,
      comparator,
      threshold,
      severity,
      forSeconds,
      labels,
      description: options.description ?? null,
      enabled: options.enabled ?? true,
      // A changed definition starts its "for" period afresh.
      pendingSince: null,
    };
    return this.prisma.alertRule.upsert({
      where: { name },
      create: { name, ...definition },
      update: definition,
    });
  }

  /** Returns every rule, by name. */
  async listRules(): Promise<AlertRule[]> {
    return this.prisma.alertRule.findMany({ orderBy: { name: "asc" } });
  }

  /**
   * Evaluates every enabled rule at `now`: updates pending state, raises or repeats alerts for
   * breaching series, and auto-resolves active alerts whose series no longer breach.
   */
  async evaluateRules(now: Date = new Date()): Promise<EvaluationResult> {
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
      throw new TypeError(`invalid now ${String(now)}, expected a valid Date`);
    }
    const result: EvaluationResult = {
      evaluatedAt: now,
      rules: [],
      created: [],
      repeated: [],
      resolved: [],
    };
    const rules = await this.prisma.alertRule.findMany({
      where: { enabled: true },
      orderBy: { name: "asc" },
    });
    for (const rule of rules) {
      try {
        result.rules.push(await this.evaluateRule(rule, now, result));
      } catch (error) {
        logger.error({ err: error, ruleId: rule.id, ruleName: rule.name }, "alert rule failed");
      }
    }
    return result;
  }

  private async evaluateRule(
    rule: AlertRule,
    now: Date,
    result: EvaluationResult,
  ): Promise<RuleEvaluation> {
    const series = await this.latestSeries(rule, now);
    const breaching = series.filter((s) =>
      compareThreshold(s.value, rule.comparator, rule.threshold),
    );

    let pendingSince = rule.pendingSince;
    if (breaching.length === 0) {
      pendingSince = null;
    } else if (pendingSince === null || pendingSince.getTime() > now.getTime()) {
      pendingSince = now;
    }
    if (pendingSince?.getTime() !== rule.pendingSince?.getTime()) {
      await this.prisma.alertRule.update({ where: { id: rule.id }, data: { pendingSince } });
    }
    const heldLongEnough =
      pendingSince !== null && now.getTime() - pendingSince.getTime() >= rule.forSeconds * 1000;

    const firing = new Set<string>();
    for (const s of breaching) {
      const fingerprint = alertFingerprint({ ruleId: rule.id }, s.labels);
      firing.add(fingerprint);
      const raised = await this.raise(
        {
          fingerprint,
          ruleId: rule.id,
          title: rule.name,
          description: rule.description ?? describeBreach(rule, s.labels, s.value),
          severity: rule.severity,
          labels: s.labels,
          value: s.value,
        },
        now,
        heldLongEnough,
        rule.name,
      );
      if (raised?.created) result.created.push(raised.alert);
      else if (raised) result.repeated.push(raised.alert);
    }

    const stale = await this.prisma.alert.findMany({
      where: {
        ruleId: rule.id,
        state: { in: [...ACTIVE_ALERT_STATES] },
        fingerprint: { notIn: [...firing] },
      },
    });
    for (const alert of stale) {
      const resolved = await this.transitionToResolved(alert.id, now, {
        autoResolved: true,
        operatorId: null,
        note: `condition cleared: ${rule.metric} ${COMPARATOR_SYMBOLS[rule.comparator]} ${rule.threshold} no longer holds`,
        ruleName: rule.name,
      });
      if (resolved) result.resolved.push(resolved);
    }

    let state: RuleEvaluation["state"] = "inactive";
    if (breaching.length > 0) state = heldLongEnough ? "firing" : "pending";
    return { ruleId: rule.id, ruleName: rule.name, state, breachingSeries: breaching.length };
  }

  private async latestSeries(
    rule: AlertRule,
    now: Date,
  ): Promise<{ labels: MetricLabels; value: number }[]> {
    const since = new Date(now.getTime() - this.staleAfterMs);
    const rows = await this.prisma.$queryRaw<{ labels: MetricLabels; value: number }[]>`
      SELECT DISTINCT ON (labels) labels, value
      FROM "MetricPoint"
      WHERE name = ${rule.metric}
        AND "timestamp" >= ${since} AND "timestamp" <= ${now}
        AND labels @> ${JSON.stringify(rule.labels ?? {})}::jsonb
      ORDER BY labels, "timestamp" DESC, id DESC`;
    return rows.map((row) => ({ labels: normalizeLabels(row.labels), value: row.value }));
  }

  /**
   * Raises an alert from code or an operator. An active alert with the same title and labels
   * absorbs it (count + 1) instead of a new row being added.
   */
  async createAlert(
    title: string,
    description: string,
    severity: Severity,
    options: { labels?: MetricLabels; value?: number | null; now?: Date } = {},
  ): Promise<RaisedAlert> {
    if (typeof title !== "string" || title.trim() === "") {
      throw new TypeError(`invalid title ${JSON.stringify(title)}, expected a non-empty string`);
    }
    if (typeof description !== "string") {
      throw new TypeError(`invalid description ${String(description)}, expected a string`);
    }
    assertSeverity(severity);
    const labels = normalizeLabels(options.labels);
    const value = options.value ?? null;
    if (value !== null && !Number.isFinite(value)) {
      throw new RangeError(`invalid value ${value}, expected a finite number or null`);
    }
    const raised = await this.raise(
      {
        fingerprint: alertFingerprint({ title }, labels),
        ruleId: null,
        title,
        description,
        severity,
        labels,
        value,
      },
      options.now ?? new Date(),
      true,
      null,
    );
    // raise() returns null only when creation is not allowed, and here it is.
    return raised as RaisedAlert;
  }

  private async raise(
    draft: AlertDraft,
    now: Date,
    createIfMissing: boolean,
    ruleName: string | null,
  ): Promise<RaisedAlert | null> {
    const raised = await this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ALERT_LOCK_NAMESPACE}::int, hashtext(${draft.fingerprint}))`;
      const active = await tx.alert.findFirst({
        where: { fingerprint: draft.fingerprint, state: { in: [...ACTIVE_ALERT_STATES] } },
      });
      if (active) {
        const alert = await tx.alert.update({
          where: { id: active.id },
          data: { count: { increment: 1 }, lastSeenAt: now, value: draft.value },
        });
        return { alert, created: false };
      }
      if (!createIfMissing) return null;
      const alert = await tx.alert.create({
        data: { ...draft, state: "open", count: 1, firstSeenAt: now, lastSeenAt: now },
      });
      return { alert, created: true };
    }, lockedTransactionOptions());
    if (raised?.created) {
      await this.logTransition(null, "alert fired", raised.alert, draft.severity);
      await this.notify({ status: "firing", alert: raised.alert, ruleName });
    }
    return raised;
  }

  /** Marks an open alert acknowledged by `operatorId`, with a note. */
  async acknowledgeAlert(alertId: string, operatorId: string, note = ""): Promise<Alert> {
    assertNonEmpty(alertId, "alertId");
    assertNonEmpty(operatorId, "operatorId");
    if (typeof note !== "string") {
      throw new TypeError(`invalid note ${String(note)}, expected a string`);
    }
    const now = new Date();
    const { count } = await this.prisma.alert.updateMany({
      where: { id: alertId, state: "open" },
      data: {
        state: "acknowledged",
        acknowledgedAt: now,
        acknowledgedById: operatorId,
        acknowledgementNote: note,
      },
    });
    const alert = await this.prisma.alert.findUnique({ where: { id: alertId } });
    if (!alert) throw new AlertNotFoundError(alertId);
    if (count === 0) throw new AlertTransitionError(alertId, alert.state, "acknowledge", ["open"]);
    await this.logTransition(operatorId, "acknowledge alert", alert, "low", note);
    return alert;
  }

  /**
   * Resolves an open or acknowledged alert. With an operator id the transition is logged as that
   * operator's action, and without one as a system event.
   */
  async resolveAlert(
    alertId: string,
    operatorId?: string | null,
    note?: string | null,
  ): Promise<Alert> {
    assertNonEmpty(alertId, "alertId");
    if (operatorId != null) assertNonEmpty(operatorId, "operatorId");
    if (note != null && typeof note !== "string") {
      throw new TypeError(`invalid note ${String(note)}, expected a string`);
    }
    const alert = await this.prisma.alert.findUnique({
      where: { id: alertId },
      include: { rule: { select: { name: true } } },
    });
    if (!alert) throw new AlertNotFoundError(alertId);
    const resolved = await this.transitionToResolved(alertId, new Date(), {
      autoResolved: false,
      operatorId: operatorId ?? null,
      note: note ?? null,
      ruleName: alert.rule?.name ?? null,
    });
    if (!resolved) {
      const current = await this.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
      throw new AlertTransitionError(alertId, current.state, "resolve", ACTIVE_ALERT_STATES);
    }
    return resolved;
  }

  private async transitionToResolved(
    alertId: string,
    now: Date,
    how: {
      autoResolved: boolean;
      operatorId: string | null;
      note: string | null;
      ruleName: string | null;
    },
  ): Promise<Alert | null> {
    const { count } = await this.prisma.alert.updateMany({
      where: { id: alertId, state: { in: [...ACTIVE_ALERT_STATES] } },
      data: {
        state: "resolved",
        resolvedAt: now,
        resolvedById: how.operatorId,
        resolutionNote: how.note,
        autoResolved: how.autoResolved,
      },
    });
    if (count === 0) return null;
    const alert = await this.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
    const action = how.autoResolved ? "alert auto-resolved" : "resolve alert";
    await this.logTransition(how.operatorId, action, alert, "low", how.note ?? undefined);
    await this.notify({ status: "resolved", alert, ruleName: how.ruleName });
    return alert;
  }

  /** Returns active alerts (open and acknowledged unless `states` lists others), worst first. */
  async getActiveAlerts(filters: ActiveAlertFilters = {}): Promise<Alert[]> {
    const states = filters.states ?? [...ACTIVE_ALERT_STATES];
    for (const state of states) {
      if (!["open", "acknowledged", "resolved"].includes(state)) {
        throw new RangeError(`invalid state "${state}", expected open, acknowledged or resolved`);
      }
    }
    const severities = filters.severity === undefined ? undefined : [filters.severity].flat();
    for (const severity of severities ?? []) assertSeverity(severity);
    const limit = filters.limit ?? 200;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new RangeError(`invalid limit ${limit}, expected an integer from 1 to 1000`);
    }
    const where: Prisma.AlertWhereInput = {
      state: { in: states },
      ...(severities && { severity: { in: severities } }),
      ...(filters.ruleId !== undefined && { ruleId: filters.ruleId }),
    };
    const labels = filters.labels ? normalizeLabels(filters.labels) : undefined;
    if (labels && Object.keys(labels).length > 0) {
      const ids = await this.prisma.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Alert" WHERE labels @> ${JSON.stringify(labels)}::jsonb`;
      where.id = { in: ids.map((row) => row.id) };
    }
    return this.prisma.alert.findMany({
      where,
      orderBy: [{ severity: "desc" }, { lastSeenAt: "desc" }],
      take: limit,
    });
  }

  private async logTransition(
    operatorId: string | null,
    action: string,
    alert: Alert,
    severity: Severity,
    note?: string,
  ): Promise<void> {
    const details = {
      alertId: alert.id,
      fingerprint: alert.fingerprint,
      ruleId: alert.ruleId,
      title: alert.title,
      state: alert.state,
      alertSeverity: alert.severity,
      ...(note ? { note } : {}),
    };
    try {
      if (operatorId) {
        await this.events.logOperatorAction(operatorId, action, details);
      } else {
        await this.events.logEvent({
          type: "system",
          severity,
          description: `${action}: ${alert.title}`,
          metadata: { ...details, action },
        });
      }
    } catch (error) {
      // The alert row is already committed, so a lost event must not undo it.
      logger.error({ err: error, alertId: alert.id, action }, "could not log alert transition");
    }
  }

  // NOTE: notifications are awaited one at a time, so an unreachable webhook delays an evaluation
  // by up to the webhook's retry budget (about 24 s with the defaults) per new or resolved alert.
  private async notify(notification: AlertNotification): Promise<void> {
    if (!this.notifier) return;
    try {
      await this.notifier(notification);
    } catch (error) {
      logger.error(
        { err: error, alertId: notification.alert.id, status: notification.status },
        "alert notification failed",
      );
    }
  }
}

function describeBreach(rule: AlertRule, labels: MetricLabels, value: number): string {
  const selector = Object.keys(labels).length > 0 ? canonicalJson(labels) : "";
  return (
    `${rule.metric}${selector} is ${value}, which is ${COMPARATOR_SYMBOLS[rule.comparator]} ` +
    `the threshold ${rule.threshold}`
  );
}

function assertSeverity(severity: Severity): void {
  if (!SEVERITIES.includes(severity)) {
    throw new RangeError(
      `invalid severity "${severity}", expected one of ${SEVERITIES.join(", ")}`,
    );
  }
}

function assertNonEmpty(value: string, name: string): void {
  if (typeof value !== "string" || value.trim() === "") {
    throw new TypeError(`invalid ${name} ${JSON.stringify(value)}, expected a non-empty string`);
  }
}
