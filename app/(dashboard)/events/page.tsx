import { ChainStatusPanel } from "@/components/dashboard/chain-status";
import { EventList } from "@/components/dashboard/event-list";
import { getEventPage } from "@/lib/dashboard/events";
import { getPrisma } from "@/lib/db";
import {
  EVENT_TYPE_VALUES,
  eventFiltersSchema,
  SEVERITY_VALUES,
  searchParamsRecord,
  TIME_RANGE_VALUES,
} from "@/lib/validations/dashboard";
import { requirePageSession } from "../page-session";

export const dynamic = "force-dynamic";

export default async function EventsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requirePageSession();
  const raw = searchParamsRecord(await searchParams);
  const parsed = eventFiltersSchema.safeParse(raw);
  const filters = parsed.success ? parsed.data : eventFiltersSchema.parse({});
  const page = await getEventPage(getPrisma(), filters);

  const base = new URLSearchParams();
  base.set("range", filters.range);
  if (filters.type) base.set("type", filters.type);
  if (filters.severity) base.set("severity", filters.severity);
  if (filters.clientId) base.set("clientId", filters.clientId);
  const query = base.toString();
  const older = page.nextCursor ? `/events?${query}&cursor=${page.nextCursor}` : null;

  return (
    <>
      <h1>Security events</h1>
      <ChainStatusPanel />
      <form className="panel filters" method="get" action="/events" aria-label="Event filters">
        {!parsed.success && (
          <p role="alert" className="error">
            Some filters in the address were invalid and were reset.
          </p>
        )}
        <div>
          <label htmlFor="filter-range">Time range</label>
          <select id="filter-range" name="range" defaultValue={filters.range}>
            {TIME_RANGE_VALUES.map((range) => (
              <option key={range} value={range}>
                last {range}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="filter-type">Type</label>
          <select id="filter-type" name="type" defaultValue={filters.type ?? ""}>
            <option value="">any</option>
            {EVENT_TYPE_VALUES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="filter-severity">Severity</label>
          <select id="filter-severity" name="severity" defaultValue={filters.severity ?? ""}>
            <option value="">any</option>
            {SEVERITY_VALUES.map((severity) => (
              <option key={severity} value={severity}>
                {severity}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="filter-client">Client id</label>
          <input
            id="filter-client"
            name="clientId"
            defaultValue={filters.clientId ?? ""}
            maxLength={64}
          />
        </div>
        <div className="filter-submit">
          <button type="submit">Apply filters</button>
        </div>
      </form>
      <EventList
        key={`${query}|${filters.cursor ?? ""}`}
        initial={page}
        query={query}
        olderHref={older}
        firstPage={filters.cursor === undefined}
      />
    </>
  );
}
