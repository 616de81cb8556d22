import Link from "next/link";
import { FederationList } from "@/components/dashboard/federation-list";
import { RunDemoButton } from "@/components/dashboard/run-demo";
import { listFederations } from "@/lib/dashboard/federations";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../page-session";
import { runDemoFederationAction } from "./actions";

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
        {can.runDemoFederation && <RunDemoButton run={runDemoFederationAction} />}
      </div>
      <FederationList initial={federations} canCreate={can.createFederation} />
    </>
  );
}
