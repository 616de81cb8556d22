import { listAlerts } from "@/lib/dashboard/alerts";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";
import { alertListSchema, searchParamsRecord } from "@/lib/validations/dashboard";

export const dynamic = "force-dynamic";

/** Returns the alerts in one state (query: state=open|acknowledged|resolved) and the count per state. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, (_session, url) => {
    const { state } = alertListSchema.parse(searchParamsRecord(url.searchParams));
    return listAlerts(getPrisma(), state);
  });
}
