import { getRoundDetail } from "@/lib/dashboard/federations";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

type RouteContext = { params: Promise<{ federationId: string; number: string }> };

/** Returns one round of a federation with every update it received. */
export async function GET(request: Request, context: RouteContext): Promise<Response> {
  const { federationId, number } = await context.params;
  return handleDashboardRequest(request, () =>
    getRoundDetail(getPrisma(), federationId, Number(number)),
  );
}
