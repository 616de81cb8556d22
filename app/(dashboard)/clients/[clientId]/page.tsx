import { notFound } from "next/navigation";
import { ClientDetailView } from "@/components/dashboard/client-detail";
import { getClientDetail } from "@/lib/dashboard/clients";
import { DashboardNotFoundError } from "@/lib/dashboard/errors";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../../page-session";
import { quarantineClientAction, releaseClientAction, revokeClientAction } from "../actions";

export const dynamic = "force-dynamic";

export default async function ClientPage({ params }: { params: Promise<{ clientId: string }> }) {
  const { can } = await requirePageSession();
  const { clientId } = await params;
  const detail = await getClientDetail(getPrisma(), decodeURIComponent(clientId)).catch(
    (error: unknown) => {
      if (error instanceof DashboardNotFoundError) notFound();
      throw error;
    },
  );
  return (
    <ClientDetailView
      initial={detail}
      actions={{
        quarantine: can.quarantineClient ? quarantineClientAction : undefined,
        release: can.releaseClient ? releaseClientAction : undefined,
        revoke: can.revokeClient ? revokeClientAction : undefined,
      }}
    />
  );
}
