import { FederationForm } from "@/components/dashboard/federation-form";
import { NeedsRole } from "@/components/ui/needs-role";
import { getConfig } from "@/lib/config";
import { requirePageSession } from "../../page-session";
import { createFederationAction } from "../actions";

export const dynamic = "force-dynamic";

export default async function NewFederationPage() {
  const { can } = await requirePageSession();
  if (!can.createFederation) {
    return (
      <>
        <h1>Create a federation</h1>
        <NeedsRole needed="operator" what="Creating a federation" />
      </>
    );
  }
  const config = getConfig();
  return (
    <>
      <h1>Create a federation</h1>
      <p className="muted">
        Defaults come from the server configuration. The federation starts in the created state;
        start it from its page once its clients are enrolled.
      </p>
      <FederationForm
        createFederation={createFederationAction}
        defaults={{
          plannedRounds: 10,
          minClients: 2,
          roundTimeoutSeconds: 300,
          aggregationRule: config.aggregation.rule,
          clipping: config.aggregation.clipping,
          anomalyThreshold: config.detection.anomalyThreshold,
        }}
      />
    </>
  );
}
