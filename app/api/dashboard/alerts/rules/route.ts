import { listAlertRules } from "@/lib/dashboard/alerts";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Returns every threshold alert rule. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, () => listAlertRules(getPrisma()));
}
