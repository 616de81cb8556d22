import { getClientsPage } from "@/lib/dashboard/clients";
import { handleDashboardRequest } from "@/lib/dashboard/route";
import { getPrisma } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Returns every client and the federations an enrollment token can be issued for. */
export async function GET(request: Request): Promise<Response> {
  return handleDashboardRequest(request, () => getClientsPage(getPrisma()));
}
