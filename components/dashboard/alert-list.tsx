"use client";
/** Alerts in one state (a tab per state), with acknowledge and resolve for operators. */
import Link from "next/link";
import type { AlertList } from "@/lib/dashboard/alerts";
import type { ActionResult } from "@/lib/dashboard/server-action";
import { formatNumber, formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { LiveStatus } from "../ui/live-status";
import { useActionRefresh } from "../use-action-refresh";

type AlertAction = (form: FormData) => Promise<ActionResult>;

const TABS = [
  { state: "open", label: "Open" },
  { state: "acknowledged", label: "Acknowledged" },
  { state: "resolved", label: "Resolved" },
] as const;

function withAlert(action: AlertAction, alertId: string) {
  return (form: FormData) => {
    form.set("alertId", alertId);
    return action(form);
  };
}

export function AlertListView({
  initial,
  acknowledge,
  resolve,
}: {
  initial: AlertList;
  acknowledge?: AlertAction;
  resolve?: AlertAction;
}) {
  const url = `/api/dashboard/alerts?state=${initial.state}`;
  const isLive = (d: AlertList) => d.counts.open > 0;
  const query = useLiveData(url, initial, isLive);
  const refresh = useActionRefresh();
  const { alerts, counts, state } = query.data;
  const canAct = Boolean(acknowledge || resolve);
  return (
    <>
      <nav aria-label="Alert states" className="tabs">
        {TABS.map((tab) => (
          <Link
            key={tab.state}
            href={`/alerts?state=${tab.state}`}
            aria-current={tab.state === state ? "page" : undefined}
          >
            {tab.label} ({counts[tab.state]})
          </Link>
        ))}
      </nav>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(query.data)} />
      {alerts.length === 0 ? (
        <p className="panel">
          {state === "open"
            ? "No open alert. Alerts appear when a threshold rule fires; edit the rules to change what fires."
            : `No ${state} alert.`}
        </p>
      ) : (
        <ul className="alert-list">
          {alerts.map((alert) => (
            <li key={alert.id} className="panel" data-alert={alert.id} data-title={alert.title}>
              <h2 className="alert-title">
                <Badge value={alert.severity} /> {alert.title} <Badge value={alert.state} />
              </h2>
              <p>{alert.description}</p>
              <p className="muted small">
                {alert.count > 1 ? `Fired ${alert.count} times, ` : "Fired "}first{" "}
                {formatTime(alert.firstSeenAt)}, last {formatTime(alert.lastSeenAt)}
                {alert.value !== null && `; value ${formatNumber(alert.value, 4)}`}
                {alert.ruleName && `; rule ${alert.ruleName}`}
                {Object.keys(alert.labels).length > 0 && `; labels ${JSON.stringify(alert.labels)}`}
                .
              </p>
              {alert.acknowledgedAt && (
                <p className="small" data-testid="acknowledgement">
                  Acknowledged by {alert.acknowledgedBy} at {formatTime(alert.acknowledgedAt)}:{" "}
                  {alert.acknowledgementNote}
                </p>
              )}
              {alert.resolvedAt && (
                <p className="small">
                  {alert.autoResolved
                    ? "Resolved automatically"
                    : `Resolved by ${alert.resolvedBy}`}{" "}
                  at {formatTime(alert.resolvedAt)}
                  {alert.resolutionNote ? `: ${alert.resolutionNote}` : "."}
                </p>
              )}
              {canAct && alert.state !== "resolved" && (
                <div className="button-row">
                  {acknowledge && alert.state === "open" && (
                    <ConfirmDialog
                      label="Acknowledge"
                      ariaLabel={`Acknowledge ${alert.title}`}
                      title={`Acknowledge "${alert.title}"?`}
                      description="Tell the other operators that you are on it."
                      confirmLabel="Acknowledge"
                      onConfirm={withAlert(acknowledge, alert.id)}
                      onSuccess={refresh}
                    >
                      <label htmlFor={`ack-note-${alert.id}`}>Note</label>
                      <textarea
                        id={`ack-note-${alert.id}`}
                        name="note"
                        required
                        maxLength={1000}
                        rows={3}
                      />
                    </ConfirmDialog>
                  )}
                  {resolve && (
                    <ConfirmDialog
                      label="Resolve"
                      ariaLabel={`Resolve ${alert.title}`}
                      title={`Resolve "${alert.title}"?`}
                      description="The alert closes. Its rule raises a new alert if the condition is met again."
                      confirmLabel="Resolve"
                      onConfirm={withAlert(resolve, alert.id)}
                      onSuccess={refresh}
                    >
                      <label htmlFor={`resolve-note-${alert.id}`}>Resolution note (optional)</label>
                      <textarea
                        id={`resolve-note-${alert.id}`}
                        name="note"
                        maxLength={1000}
                        rows={3}
                      />
                    </ConfirmDialog>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
