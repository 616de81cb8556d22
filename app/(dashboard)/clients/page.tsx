import { ClientList } from "@/components/dashboard/client-list";
import { getClientsPage } from "@/lib/dashboard/clients";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../page-session";
import {
  issueEnrollmentTokenAction,
  quarantineClientAction,
  releaseClientAction,
  revokeClientAction,
} from "./actions";

export const dynamic = "force-dynamic";

export default async function ClientsPage() {
  const { can } = await requirePageSession();
  const data = await getClientsPage(getPrisma());
  return (
    <ClientList
      initial={data}
      issueToken={can.issueEnrollmentToken ? issueEnrollmentTokenAction : undefined}
      actions={{
        quarantine: can.quarantineClient ? quarantineClientAction : undefined,
        release: can.releaseClient ? releaseClientAction : undefined,
        revoke: can.revokeClient ? revokeClientAction : undefined,
      }}
    />
  );
}
