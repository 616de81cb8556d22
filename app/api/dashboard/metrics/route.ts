import { getMetricsPage } from "@/lib/dashboard/metrics";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";
import { metricQuerySchema, searchParamsRecord } from "@/lib/validations/dashboard";

export const dynamic = "force-dynamic";

/** Metric names and one metric's history; query: name, range (15m, 1h, 6h, 24h, 7d or 30d). */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, (_session, url) => {
    const query = metricQuerySchema.parse(searchParamsRecord(url.searchParams));
    return getMetricsPage(getPrisma(), query);
  });
}
