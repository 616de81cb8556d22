import { listFederations } from "@/lib/dashboard/federations";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Returns every federation, newest first. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, () => listFederations(getPrisma()));
}
