import { getOverview } from "@/lib/dashboard/overview";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Returns the overview page's live data. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, () => getOverview(getPrisma()));
}
