"use client";
/** A page of security events, newest first; the first page refreshes by itself. */
import Link from "next/link";
import type { EventPage } from "@/lib/dashboard/events";
import { formatTime } from "../format";
import { useLiveData } from "../live";
import { Badge } from "../ui/badge";
import { LiveStatus } from "../ui/live-status";

export function EventList({
  initial,
  query,
  olderHref,
  firstPage,
}: {
  initial: EventPage;
  /** The page's query string without the cursor, for the JSON route. */
  query: string;
  olderHref: string | null;
  firstPage: boolean;
}) {
  const url = `/api/dashboard/events?${query}`;
  const live = useLiveData(url, initial, () => false, firstPage);
  // Later pages stay as loaded: they are addressed by cursor and do not change.
  const page = firstPage ? live.data : initial;
  return (
    <>
      {firstPage && <LiveStatus updatedAt={live.dataUpdatedAt} error={live.error} live={false} />}
      {page.events.length === 0 ? (
        <p className="panel">
          No event matches these filters in this time range. Widen the range or clear a filter.
        </p>
      ) : (
        <div className="table-wrap">
          <table data-testid="event-table">
            <thead>
              <tr>
                <th scope="col">Sequence</th>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">Severity</th>
                <th scope="col">Client</th>
                <th scope="col">Operator</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((event) => (
                <tr key={event.id} data-type={event.type}>
                  <td className="num">{event.sequence}</td>
                  <td>{formatTime(event.timestamp)}</td>
                  <td>{event.type}</td>
                  <td>
                    <Badge value={event.severity} />
                  </td>
                  <td>
                    {event.clientId ? (
                      <Link href={`/clients/${encodeURIComponent(event.clientId)}`}>
                        {event.clientId}
                      </Link>
                    ) : (
                      "–"
                    )}
                  </td>
                  <td>{event.operatorEmail ?? event.operatorId ?? "–"}</td>
                  <td>
                    {event.description}
                    {Object.keys(event.metadata).length > 0 && (
                      <details>
                        <summary>Details</summary>
                        <pre>{JSON.stringify(event.metadata, null, 2)}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Event pages" className="button-row">
        {!firstPage && <Link href={`/events?${query}`}>Newest events</Link>}
        {olderHref && <Link href={olderHref}>Older events</Link>}
      </nav>
    </>
  );
}
