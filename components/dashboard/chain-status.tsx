"use client";
/**
 * The result of walking the security event hash chain. The walk reads every event, so it runs
 * once when the page opens and again on request, not on every refresh.
 */
import { useQuery } from "@tanstack/react-query";
import type { ChainStatus } from "@/lib/dashboard/events";
import { formatTime } from "../format";
import { fetchDashboardJson } from "../live";

export function ChainStatusPanel() {
  const query = useQuery({
    queryKey: ["/api/dashboard/events/chain"],
    queryFn: () => fetchDashboardJson<ChainStatus>("/api/dashboard/events/chain"),
    refetchInterval: false,
    refetchOnWindowFocus: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const status = query.data;
  return (
    <section className="panel" aria-labelledby="chain-title" aria-busy={query.isFetching}>
      <h2 id="chain-title">Hash chain</h2>
      <div data-testid="chain-status" aria-live="polite">
        {query.isPending && <p>Verifying the chain…</p>}
        {query.error && (
          <p role="alert" className="error">
            The verification failed: {query.error.message}
          </p>
        )}
        {status?.ok === true && (
          <p className="ok">
            Intact: {status.count} events verified
            {status.headSequence !== null && `, newest sequence ${status.headSequence}`}
            {status.sequenceGaps > 0 &&
              `, ${status.sequenceGaps} unused sequence numbers (rolled-back inserts)`}
            . Checked {formatTime(status.checkedAt)}.
          </p>
        )}
        {status?.ok === false && (
          <p role="alert" className="error">
            Broken at sequence {status.firstBrokenSequence} ({status.kind}) after {status.count}{" "}
            intact events: {status.reason}. Checked {formatTime(status.checkedAt)}.
          </p>
        )}
      </div>
      <button
        type="button"
        className="secondary"
        onClick={() => void query.refetch()}
        disabled={query.isFetching}
      >
        {query.isFetching ? "Verifying…" : "Verify again"}
      </button>
    </section>
  );
}
