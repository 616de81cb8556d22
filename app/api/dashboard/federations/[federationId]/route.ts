import { getFederationDetail } from "@/lib/dashboard/federations";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

type RouteContext = { params: Promise<{ federationId: string }> };

/** Returns one federation with its settings, current round and rounds. */
export async function GET(request: Request, context: RouteContext): Promise<Response> {
  const { federationId } = await context.params;
  return handleDashboardRequest(request, () => getFederationDetail(getPrisma(), federationId));
}
