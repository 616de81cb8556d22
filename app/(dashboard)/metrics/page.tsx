import { MetricsView } from "@/components/dashboard/metrics-view";
import { EmptyState } from "@/components/ui/empty-state";
import { getMetricsPage } from "@/lib/dashboard/metrics";
import { getPrisma } from "@/lib/db";
import {
  metricQuerySchema,
  searchParamsRecord,
  TIME_RANGE_VALUES,
} from "@/lib/validations/dashboard";
import { requirePageSession } from "../page-session";

export const dynamic = "force-dynamic";

export default async function MetricsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requirePageSession();
  const parsed = metricQuerySchema.safeParse(searchParamsRecord(await searchParams));
  const query = parsed.success ? parsed.data : metricQuerySchema.parse({});
  const data = await getMetricsPage(getPrisma(), query);
  if (data.names.length === 0) {
    return (
      <>
        <h1>Metrics</h1>
        <EmptyState title="No metric recorded yet">
          <p>
            Workers record process metrics every few seconds and round metrics when a round closes.
            Start the server with <code>npm start</code> and check again in a minute.
          </p>
        </EmptyState>
      </>
    );
  }
  const params = new URLSearchParams({ range: data.range });
  if (data.selected) params.set("name", data.selected);
  return (
    <>
      <h1>Metrics</h1>
      <form className="panel filters" method="get" action="/metrics" aria-label="Metric and range">
        {!parsed.success && (
          <p role="alert" className="error">
            The metric or range in the address was invalid and was reset.
          </p>
        )}
        <div>
          <label htmlFor="metric-name">Metric</label>
          <select id="metric-name" name="name" defaultValue={data.selected ?? ""}>
            {data.names.map((n) => (
              <option key={n.name} value={n.name}>
                {n.name} ({n.samples} samples)
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="metric-range">Range</label>
          <select id="metric-range" name="range" defaultValue={data.range}>
            {TIME_RANGE_VALUES.map((range) => (
              <option key={range} value={range}>
                last {range}
              </option>
            ))}
          </select>
        </div>
        <div className="filter-submit">
          <button type="submit">Show</button>
        </div>
      </form>
      <MetricsView key={params.toString()} initial={data} query={params.toString()} />
    </>
  );
}
