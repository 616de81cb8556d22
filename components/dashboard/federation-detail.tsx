"use client";
/** One federation: status and controls, the current round, per-round charts and the round list. */
import Link from "next/link";
import type { FederationDetail } from "@/lib/dashboard/federations";
import type { ActionResult } from "@/lib/dashboard/server-action";
import { AccuracyLossChart, UpdatesChart } from "../charts/round-charts";
import { formatNumber, formatPercent, formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { LiveStatus } from "../ui/live-status";
import { useActionRefresh } from "../use-action-refresh";
import { RoundProgressPanel } from "./round-progress";

export interface FederationActions {
  start?: (form: FormData) => Promise<ActionResult<{ roundNumber: number }>>;
  stop?: (form: FormData) => Promise<ActionResult>;
}

function SettingsList({ title, values }: { title: string; values: Record<string, unknown> }) {
  const entries = Object.entries(values);
  return (
    <div>
      <h3>{title}</h3>
      <dl className="settings">
        {entries.map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{typeof value === "object" ? JSON.stringify(value) : String(value)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

export function FederationDetailView({
  initial,
  actions,
}: {
  initial: FederationDetail;
  actions: FederationActions;
}) {
  const url = `/api/dashboard/federations/${initial.federation.id}`;
  const isLive = (d: FederationDetail) => d.federation.status === "running";
  const query = useLiveData(url, initial, isLive);
  const refresh = useActionRefresh();
  const { federation, currentRound, rounds } = query.data;

  return (
    <>
      <h1>
        {federation.name} <Badge value={federation.status} />
      </h1>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(query.data)} />
      <section className="panel" aria-labelledby="status-title">
        <h2 id="status-title">Status</h2>
        <p>
          {federation.architecture} model, round {federation.currentRound} of{" "}
          {federation.plannedRounds}, quorum {federation.minClients}, round timeout{" "}
          {federation.roundTimeoutSeconds} s, {federation.clientCount} clients. Created{" "}
          {formatTime(federation.createdAt)}
          {federation.startedAt && `, started ${formatTime(federation.startedAt)}`}
          {federation.endedAt && `, ended ${formatTime(federation.endedAt)}`}.
        </p>
        <div className="button-row">
          {actions.start && federation.status === "created" && (
            <ConfirmDialog
              label="Start federation"
              title={`Start ${federation.name}?`}
              description="Round 1 opens now and enrolled clients can send updates."
              confirmLabel="Start"
              onConfirm={(form) => {
                form.set("federationId", federation.id);
                return actions.start?.(form) ?? Promise.reject(new Error("not permitted"));
              }}
              onSuccess={refresh}
            />
          )}
          {actions.stop && (federation.status === "created" || federation.status === "running") && (
            <ConfirmDialog
              label="Stop federation"
              title={`Stop ${federation.name}?`}
              description="The open round is marked failed and no further round opens. This cannot be undone."
              confirmLabel="Stop"
              tone="danger"
              onConfirm={(form) => {
                form.set("federationId", federation.id);
                return actions.stop?.(form) ?? Promise.reject(new Error("not permitted"));
              }}
              onSuccess={refresh}
            >
              <label htmlFor="stop-reason">Reason (recorded in the security event log)</label>
              <input id="stop-reason" name="reason" maxLength={500} />
            </ConfirmDialog>
          )}
          {!actions.start && !actions.stop && (
            <p className="muted">Starting and stopping needs the operator role.</p>
          )}
        </div>
        {currentRound && (
          <RoundProgressPanel round={currentRound} plannedRounds={federation.plannedRounds} />
        )}
      </section>

      <section className="panel grid-2" aria-label="Round charts">
        <div>
          <h2>Test accuracy and loss</h2>
          <AccuracyLossChart rounds={rounds} />
        </div>
        <div>
          <h2>Updates per round</h2>
          <UpdatesChart rounds={rounds} />
        </div>
      </section>

      <section className="panel" aria-labelledby="rounds-title">
        <h2 id="rounds-title">Rounds</h2>
        {rounds.length === 0 ? (
          <p className="muted">
            No round yet:{" "}
            {federation.status === "created"
              ? "start the federation to open round 1."
              : "rounds appear here as they open."}
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="round-table">
              <thead>
                <tr>
                  <th scope="col">Round</th>
                  <th scope="col">Status</th>
                  <th scope="col">Accepted</th>
                  <th scope="col">Rejected</th>
                  <th scope="col">Excluded</th>
                  <th scope="col">Anomalies</th>
                  <th scope="col">Quarantined</th>
                  <th scope="col">Test accuracy</th>
                  <th scope="col">Test loss</th>
                  <th scope="col">Opened</th>
                </tr>
              </thead>
              <tbody>
                {[...rounds].reverse().map((round) => (
                  <tr key={round.id} data-round={round.number}>
                    <th scope="row">
                      <Link href={`/federations/${federation.id}/rounds/${round.number}`}>
                        Round {round.number}
                      </Link>
                    </th>
                    <td>
                      <Badge value={round.status} />
                      {round.failureReason && <span className="muted"> {round.failureReason}</span>}
                    </td>
                    <td className="num">{round.accepted}</td>
                    <td className="num">{round.rejected}</td>
                    <td className="num">{round.excluded}</td>
                    <td className="num">{round.anomalies}</td>
                    <td className="num">{round.quarantined}</td>
                    <td className="num">{formatPercent(round.testAccuracy)}</td>
                    <td className="num">{formatNumber(round.testLoss)}</td>
                    <td>{formatTime(round.openedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="panel grid-3" aria-label="Settings">
        <SettingsList title="Aggregation" values={query.data.settings.aggregation} />
        <SettingsList title="Detection" values={query.data.settings.detection} />
        <SettingsList title="Reputation" values={query.data.settings.reputation} />
      </section>
    </>
  );
}
