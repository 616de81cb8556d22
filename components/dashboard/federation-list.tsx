"use client";
import Link from "next/link";
import type { FederationSummary } from "@/lib/dashboard/federations";
import { formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { EmptyState } from "../ui/empty-state";
import { LiveStatus } from "../ui/live-status";

export function FederationList({
  initial,
  canCreate,
}: {
  initial: FederationSummary[];
  canCreate: boolean;
}) {
  const isLive = (list: FederationSummary[]) => list.some((f) => f.status === "running");
  const query = useLiveData("/api/dashboard/federations", initial, isLive);
  const federations = query.data;
  if (federations.length === 0) {
    return (
      <EmptyState title="No federation yet">
        <p>
          {canCreate ? (
            <>
              No federation yet: <Link href="/federations/new">create one</Link>.
            </>
          ) : (
            "No federation yet: ask an operator to create one."
          )}
        </p>
      </EmptyState>
    );
  }
  return (
    <>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(federations)} />
      <div className="table-wrap">
        <table data-testid="federation-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Model</th>
              <th scope="col">Round</th>
              <th scope="col">Quorum</th>
              <th scope="col">Aggregation</th>
              <th scope="col">Clients</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {federations.map((f) => (
              <tr key={f.id}>
                <th scope="row">
                  <Link href={`/federations/${f.id}`}>{f.name}</Link>
                </th>
                <td>
                  <Badge value={f.status} />
                </td>
                <td>{f.architecture}</td>
                <td>
                  {f.currentRound} / {f.plannedRounds}
                </td>
                <td>{f.minClients}</td>
                <td>{f.aggregationRule}</td>
                <td>{f.clientCount}</td>
                <td>{formatTime(f.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
