import { listOperatorAccounts } from "@/lib/dashboard/accounts";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Returns every operator account without its password hash. Admins only. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, () => listOperatorAccounts(getPrisma()), "admin");
}
