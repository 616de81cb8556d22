"use client";
/** The client list with its actions, and the enrollment token button. */
import Link from "next/link";
import type { ClientsPage } from "@/lib/dashboard/clients";
import type { IssuedTokenView } from "@/lib/dashboard/operations";
import type { ActionResult } from "@/lib/dashboard/server-action";
import { formatNumber, formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { EmptyState } from "../ui/empty-state";
import { LiveStatus } from "../ui/live-status";
import { useActionRefresh } from "../use-action-refresh";
import { ClientActionButtons, type ClientActionSet } from "./client-actions";
import { IssueTokenButton } from "./issue-token";

export function ClientList({
  initial,
  actions,
  issueToken,
}: {
  initial: ClientsPage;
  actions: ClientActionSet;
  issueToken?: (form: FormData) => Promise<ActionResult<IssuedTokenView>>;
}) {
  const isLive = (d: ClientsPage) => d.live;
  const query = useLiveData("/api/dashboard/clients", initial, isLive);
  const refresh = useActionRefresh();
  const { clients, federations } = query.data;
  const anyAction = Boolean(actions.quarantine || actions.release || actions.revoke);
  return (
    <>
      <div className="title-row">
        <h1>Clients</h1>
        {issueToken && (
          <IssueTokenButton federations={federations} issue={issueToken} onIssued={refresh} />
        )}
      </div>
      <LiveStatus updatedAt={query.dataUpdatedAt} error={query.error} live={isLive(query.data)} />
      {clients.length === 0 ? (
        <EmptyState title="No client yet">
          <p>
            {issueToken
              ? "No client yet: issue an enrollment token and give it to a client, which enrolls with its own keys."
              : "No client yet: an operator issues enrollment tokens to clients, which then appear here."}
          </p>
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table data-testid="client-table">
            <thead>
              <tr>
                <th scope="col">Client</th>
                <th scope="col">Status</th>
                <th scope="col">Reputation</th>
                <th scope="col">Influence weight</th>
                <th scope="col">Last anomaly score</th>
                <th scope="col">Last seen</th>
                <th scope="col">Federation</th>
                {anyAction && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {clients.map((c) => (
                <tr key={c.id} data-client={c.id} data-status={c.status}>
                  <th scope="row">
                    <Link href={`/clients/${encodeURIComponent(c.id)}`}>{c.id}</Link>
                  </th>
                  <td>
                    <Badge value={c.status} />
                    {c.statusReason && <div className="muted small">{c.statusReason}</div>}
                  </td>
                  <td className="num">{formatNumber(c.reputation)}</td>
                  <td className="num">{formatNumber(c.influenceWeight)}</td>
                  <td className="num">{formatNumber(c.lastAnomalyScore)}</td>
                  <td>{formatTime(c.lastSeenAt)}</td>
                  <td>{c.federationName ?? "–"}</td>
                  {anyAction && (
                    <td>
                      <ClientActionButtons clientId={c.id} status={c.status} actions={actions} />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
