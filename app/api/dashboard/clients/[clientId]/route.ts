import { getClientDetail } from "@/lib/dashboard/clients";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

type RouteContext = { params: Promise<{ clientId: string }> };

/** Returns one client with its histories, updates and SHAP explanations. */
export async function GET(request: Request, context: RouteContext): Promise<Response> {
  const { clientId } = await context.params;
  return handleDashboardRequest(request, () => getClientDetail(getPrisma(), clientId));
}
