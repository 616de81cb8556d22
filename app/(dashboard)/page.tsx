import { Overview } from "@/components/dashboard/overview";
import { getOverview } from "@/lib/dashboard/overview";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "./page-session";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const { can } = await requirePageSession();
  const data = await getOverview(getPrisma());
  return (
    <>
      <h1>Overview</h1>
      <Overview initial={data} canCreate={can.createFederation} />
    </>
  );
}
