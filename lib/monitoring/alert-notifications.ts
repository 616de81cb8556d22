/**
 * Alert notifications: the notifier hook that AlertManager calls for new and resolved alerts, and
 * the webhook notifier with its JSON payload (version "1").
 */
import type { Alert } from "../generated/prisma/client";
import { sendWebhook, type WebhookOptions } from "./webhook";

export interface AlertNotification {
  status: "firing" | "resolved";
  alert: Alert;
  ruleName: string | null;
}

export type AlertNotifier = (notification: AlertNotification) => Promise<void>;

/** Builds the JSON body that the webhook notifier POSTs. */
export function buildWebhookPayload(notification: AlertNotification, sentAt = new Date()) {
  const { alert } = notification;
  return {
    version: "1",
    source: "qsfl-caad",
    status: notification.status,
    sentAt: sentAt.toISOString(),
    alert: {
      id: alert.id,
      fingerprint: alert.fingerprint,
      ruleId: alert.ruleId,
      ruleName: notification.ruleName,
      title: alert.title,
      description: alert.description,
      severity: alert.severity,
      state: alert.state,
      labels: alert.labels,
      value: alert.value,
      count: alert.count,
      firstSeenAt: alert.firstSeenAt.toISOString(),
      lastSeenAt: alert.lastSeenAt.toISOString(),
      acknowledgedAt: alert.acknowledgedAt?.toISOString() ?? null,
      resolvedAt: alert.resolvedAt?.toISOString() ?? null,
      autoResolved: alert.autoResolved,
    },
  };
}

/** Returns a notifier that POSTs each notification to `url` with sendWebhook. */
export function createWebhookNotifier(url: string, options: WebhookOptions = {}): AlertNotifier {
  return async (notification) => {
    await sendWebhook(url, buildWebhookPayload(notification), options);
  };
}
