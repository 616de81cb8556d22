"use client";
/**
 * One client: status and actions, reputation and anomaly-score history, and its updates. Every
 * scored update has a SHAP waterfall; the newest is open, older ones open on demand.
 */
import Link from "next/link";
import type { ClientDetail } from "@/lib/dashboard/clients";
import { AnomalyScoreChart, ReputationChart } from "../charts/client-charts";
import { ShapWaterfall } from "../charts/shap-waterfall";
import { formatNumber, formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { LiveStatus } from "../ui/live-status";
import { ClientActionButtons, type ClientActionSet } from "./client-actions";

export function ClientDetailView({
  initial,
  actions,
}: {
  initial: ClientDetail;
  actions: ClientActionSet;
}) {
  const url = `/api/dashboard/clients/${encodeURIComponent(initial.client.id)}`;
  const isLive = (d: ClientDetail) => d.live;
  const query = useLiveData(url, initial, isLive);
  const { client, reputationHistory, scoreHistory, updates, events } = query.data;
  const firstScored = updates.find((u) => u.anomaly !== null)?.id;

  return (
    <>
      <p>
        <Link href="/clients">← Clients</Link>
      </p>
      <h1>
        {client.id} <Badge value={client.status} />
      </h1>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(query.data)} />
      <section className="panel" aria-labelledby="client-status">
        <h2 id="client-status">Status</h2>
        <dl className="settings">
          <div>
            <dt>Reputation</dt>
            <dd data-testid="client-reputation">{formatNumber(client.reputation)}</dd>
          </div>
          <div>
            <dt>Influence weight</dt>
            <dd>{formatNumber(client.influenceWeight)}</dd>
          </div>
          <div>
            <dt>Last anomaly score</dt>
            <dd>{formatNumber(client.lastAnomalyScore)}</dd>
          </div>
          <div>
            <dt>Consecutive anomalies</dt>
            <dd>{client.consecutiveAnomalies}</dd>
          </div>
          <div>
            <dt>Last seen</dt>
            <dd>{formatTime(client.lastSeenAt)}</dd>
          </div>
          <div>
            <dt>Federation</dt>
            <dd>
              {client.federationId ? (
                <Link href={`/federations/${client.federationId}`}>{client.federationName}</Link>
              ) : (
                "–"
              )}
            </dd>
          </div>
          <div>
            <dt>Credential</dt>
            <dd>
              {client.credential
                ? `${client.credential.fingerprint.slice(0, 16)}…, expires ${formatTime(client.credential.expiresAt)}${client.credential.revokedAt ? `, revoked ${formatTime(client.credential.revokedAt)}` : ""}`
                : "none"}
            </dd>
          </div>
          {client.statusReason && (
            <div>
              <dt>Status reason</dt>
              <dd>{client.statusReason}</dd>
            </div>
          )}
        </dl>
        <ClientActionButtons clientId={client.id} status={client.status} actions={actions} />
      </section>

      <section className="panel grid-2" aria-label="History charts">
        <div>
          <h2>Reputation</h2>
          <ReputationChart history={reputationHistory} />
        </div>
        <div>
          <h2>Anomaly score</h2>
          <AnomalyScoreChart history={scoreHistory} />
        </div>
      </section>

      <section className="panel" aria-labelledby="client-updates">
        <h2 id="client-updates">Updates</h2>
        {updates.length === 0 ? (
          <p className="muted">
            No update from this client yet. It appears once the client submits one.
          </p>
        ) : (
          <ul className="update-list">
            {updates.map((u) => (
              <li key={u.id} data-update={u.id} data-round={u.roundNumber} data-status={u.status}>
                <details open={u.id === firstScored}>
                  <summary>
                    <Link href={`/federations/${u.federationId}/rounds/${u.roundNumber}`}>
                      Round {u.roundNumber}
                    </Link>{" "}
                    <Badge value={u.status} /> score {formatNumber(u.anomaly?.score ?? null)}
                    {u.reason && <span className="muted"> {u.reason}</span>}
                  </summary>
                  {u.anomaly ? (
                    <ShapWaterfall
                      expectedValue={u.anomaly.expectedValue}
                      score={u.anomaly.score}
                      threshold={u.anomaly.threshold}
                      features={u.anomaly.features}
                      explanation={u.anomaly.explanation}
                    />
                  ) : (
                    <p className="muted">
                      {u.status === "received"
                        ? "Not scored yet: the score and its explanation appear when the round closes."
                        : "This update was not scored (a round with a single update and no history cannot be)."}
                    </p>
                  )}
                </details>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="panel" aria-labelledby="client-events">
        <h2 id="client-events">Recent security events</h2>
        {events.length === 0 ? (
          <p className="muted">No security event names this client yet.</p>
        ) : (
          <ul className="plain">
            {events.map((e) => (
              <li key={e.sequence}>
                {formatTime(e.timestamp)} <Badge value={e.severity} /> {e.type}: {e.description}
              </li>
            ))}
          </ul>
        )}
        <Link href={`/events?clientId=${encodeURIComponent(client.id)}&range=30d`}>
          All events of this client
        </Link>
      </section>
    </>
  );
}
