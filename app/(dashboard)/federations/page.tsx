import Link from "next/link";
import { FederationList } from "@/components/dashboard/federation-list";
import { listFederations } from "@/lib/dashboard/federations";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../page-session";

export const dynamic = "force-dynamic";

export default async function FederationsPage() {
  const { can } = await requirePageSession();
  const federations = await listFederations(getPrisma());
  return (
    <>
      <div className="title-row">
        <h1>Federations</h1>
        {can.createFederation && (
          <Link className="button" href="/federations/new">
            Create federation
          </Link>
        )}
      </div>
      <FederationList initial={federations} canCreate={can.createFederation} />
    </>
  );
}
