import { getChainStatus } from "@/lib/dashboard/events";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Walks the security event hash chain and returns its count or its first broken row. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, () => getChainStatus(getPrisma()));
}
