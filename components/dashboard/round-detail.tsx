"use client";
/** One round: its status and counts, and every update with its status, score and reason. */
import Link from "next/link";
import type { RoundDetail } from "@/lib/dashboard/federations";
import { formatNumber, formatPercent, formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { Countdown } from "../ui/countdown";
import { LiveStatus } from "../ui/live-status";

const OPEN_STATES = new Set(["open", "collecting", "aggregating"]);

export function RoundDetailView({ initial }: { initial: RoundDetail }) {
  const url = `/api/dashboard/federations/${initial.federation.id}/rounds/${initial.round.number}`;
  const isLive = (d: RoundDetail) => OPEN_STATES.has(d.round.status);
  const query = useLiveData(url, initial, isLive);
  const { federation, round, updates } = query.data;
  return (
    <>
      <p>
        <Link href={`/federations/${federation.id}`}>← {federation.name}</Link>
      </p>
      <h1>
        Round {round.number} <Badge value={round.status} />
      </h1>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(query.data)} />
      <section className="panel">
        <p>
          {updates.length} updates received, quorum {round.quorum}.{" "}
          {OPEN_STATES.has(round.status) ? (
            <>
              Deadline: <Countdown deadline={round.deadline} />.
            </>
          ) : (
            <>Closed {formatTime(round.closedAt)}.</>
          )}
        </p>
        <p>
          Accepted {round.accepted}, rejected {round.rejected}, excluded {round.excluded};{" "}
          {round.anomalies} anomalies, {round.quarantined} clients quarantined after the round.
        </p>
        {round.modelVersion !== null && (
          <p>
            Published model version {round.modelVersion} at {formatTime(round.publishedAt)}: test
            accuracy {formatPercent(round.testAccuracy)}, loss {formatNumber(round.testLoss)}.
            {round.aggregation && ` Aggregation: ${round.aggregation}.`}
          </p>
        )}
        {round.failureReason && <p className="error">Failed: {round.failureReason}</p>}
      </section>
      <section className="panel" aria-labelledby="updates-title">
        <h2 id="updates-title">Updates</h2>
        {updates.length === 0 ? (
          <p className="muted">
            No update received yet. Enrolled clients send theirs while the round is open.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="update-table">
              <thead>
                <tr>
                  <th scope="col">Client</th>
                  <th scope="col">Status</th>
                  <th scope="col">Anomaly score</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Influence weight</th>
                  <th scope="col">Samples</th>
                  <th scope="col">Received</th>
                </tr>
              </thead>
              <tbody>
                {updates.map((u) => (
                  <tr key={u.id} data-client={u.clientId} data-status={u.status}>
                    <th scope="row">
                      <Link href={`/clients/${encodeURIComponent(u.clientId)}`}>{u.clientId}</Link>
                    </th>
                    <td>
                      <Badge value={u.status} />
                    </td>
                    <td className="num">
                      {formatNumber(u.score)}
                      {u.isAnomalous && " (anomalous)"}
                    </td>
                    <td>{u.reason ?? ""}</td>
                    <td className="num">{formatNumber(u.influenceWeight)}</td>
                    <td className="num">{u.numSamples ?? "–"}</td>
                    <td>{formatTime(u.receivedAt)}</td>
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
