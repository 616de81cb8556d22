import { notFound } from "next/navigation";
import { FederationDetailView } from "@/components/dashboard/federation-detail";
import { DashboardNotFoundError } from "@/lib/dashboard/errors";
import { getFederationDetail } from "@/lib/dashboard/federations";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../../page-session";
import { startFederationAction, stopFederationAction } from "../actions";

export const dynamic = "force-dynamic";

export default async function FederationPage({
  params,
}: {
  params: Promise<{ federationId: string }>;
}) {
  const { can } = await requirePageSession();
  const { federationId } = await params;
  const detail = await getFederationDetail(getPrisma(), federationId).catch((error: unknown) => {
    if (error instanceof DashboardNotFoundError) notFound();
    throw error;
  });
  return (
    <FederationDetailView
      initial={detail}
      actions={{
        start: can.startFederation ? startFederationAction : undefined,
        stop: can.stopFederation ? stopFederationAction : undefined,
      }}
    />
  );
}
