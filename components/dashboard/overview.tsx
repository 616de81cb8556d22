"use client";
/** The overview page: the federation in focus, its round results, anomalies, alerts and clients. */
import Link from "next/link";
import type { OverviewData } from "@/lib/dashboard/overview";
import { AccuracyLossChart, UpdatesChart } from "../charts/round-charts";
import { formatNumber, formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { EmptyState } from "../ui/empty-state";
import { LiveStatus } from "../ui/live-status";
import { RoundProgressPanel } from "./round-progress";

const SEVERITY_ORDER = ["critical", "high", "medium", "low"] as const;

export function Overview({ initial, canCreate }: { initial: OverviewData; canCreate: boolean }) {
  const isLive = (d: OverviewData) => d.focus?.federation.status === "running";
  const query = useLiveData("/api/dashboard/overview", initial, isLive);
  const data = query.data;

  if (data.federations.length === 0) {
    return (
      <EmptyState title="No federation yet">
        {canCreate ? (
          <p>
            No federation yet: <Link href="/federations/new">create one</Link>, then issue
            enrollment tokens to its clients on the <Link href="/clients">Clients</Link> page.
          </p>
        ) : (
          <p>No federation yet: ask an operator to create one. This page updates by itself.</p>
        )}
      </EmptyState>
    );
  }

  const focus = data.focus;
  return (
    <>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(data)} />
      {focus && (
        <section className="panel" aria-labelledby="focus-title">
          <h2 id="focus-title">
            <Link href={`/federations/${focus.federation.id}`}>{focus.federation.name}</Link>{" "}
            <Badge value={focus.federation.status} />
          </h2>
          <p className="muted">
            {focus.federation.architecture} model, {focus.federation.aggregationRule} aggregation,
            round {focus.federation.currentRound} of {focus.federation.plannedRounds},{" "}
            {focus.federation.clientCount} clients.
          </p>
          {focus.currentRound ? (
            <RoundProgressPanel
              round={focus.currentRound}
              plannedRounds={focus.federation.plannedRounds}
            />
          ) : (
            <p>
              {focus.federation.status === "created"
                ? "Not started: open the federation and start it once its clients are enrolled."
                : "No round is collecting updates."}
            </p>
          )}
          <div className="grid-2">
            <div>
              <h3>Test accuracy and loss per round</h3>
              <AccuracyLossChart rounds={focus.rounds} />
            </div>
            <div>
              <h3>Updates per round</h3>
              <UpdatesChart rounds={focus.rounds} />
            </div>
          </div>
        </section>
      )}

      <div className="grid-3">
        <section className="panel" aria-labelledby="alerts-title">
          <h2 id="alerts-title">Open alerts</h2>
          <p className="muted small">open or acknowledged</p>
          <p className="big-number" data-testid="open-alerts-total">
            {data.openAlerts.total}
          </p>
          <ul className="plain">
            {SEVERITY_ORDER.map((severity) => (
              <li key={severity}>
                <Badge value={severity} /> {data.openAlerts[severity]}
              </li>
            ))}
          </ul>
          <Link href="/alerts">Review alerts</Link>
        </section>
        <section className="panel" aria-labelledby="anomalies-title">
          <h2 id="anomalies-title">Anomalies</h2>
          <p className="big-number">{data.anomalies.total}</p>
          <p className="muted">updates scored above their threshold</p>
        </section>
        <section className="panel" aria-labelledby="clients-title">
          <h2 id="clients-title">Clients</h2>
          <p className="big-number">{data.clients.total}</p>
          <ul className="plain">
            <li>
              <Badge value="active" /> {data.clients.active}
            </li>
            <li>
              <Badge value="quarantined" /> {data.clients.quarantined}
            </li>
            <li>
              <Badge value="revoked" /> {data.clients.revoked}
            </li>
          </ul>
          <Link href="/clients">Manage clients</Link>
        </section>
      </div>

      <section className="panel" aria-labelledby="recent-anomalies-title">
        <h2 id="recent-anomalies-title">Recent anomalies</h2>
        {data.anomalies.recent.length === 0 ? (
          <p className="muted">
            No anomalous update yet. Flagged updates appear here with their score.
          </p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Client</th>
                  <th scope="col">Round</th>
                  <th scope="col">Score</th>
                  <th scope="col">Explanation</th>
                  <th scope="col">Time</th>
                </tr>
              </thead>
              <tbody>
                {data.anomalies.recent.map((a) => (
                  <tr key={a.updateId}>
                    <td>
                      <Link href={`/clients/${encodeURIComponent(a.clientId)}`}>{a.clientId}</Link>
                    </td>
                    <td>
                      <Link href={`/federations/${a.federationId}/rounds/${a.roundNumber}`}>
                        {a.roundNumber}
                      </Link>
                    </td>
                    <td className="num">{formatNumber(a.score)}</td>
                    <td>{a.explanation}</td>
                    <td>{formatTime(a.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
