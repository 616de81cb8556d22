import { getEventPage } from "@/lib/dashboard/events";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";
import { eventFiltersSchema, searchParamsRecord } from "@/lib/validations/dashboard";

export const dynamic = "force-dynamic";

/** Returns one page of security events, filtered by the query: range, type, severity, clientId, cursor. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, (_session, url) => {
    const filters = eventFiltersSchema.parse(searchParamsRecord(url.searchParams));
    return getEventPage(getPrisma(), filters);
  });
}
