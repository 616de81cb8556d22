"use client";
/**
 * Quarantine, release and revoke buttons for one client. Each opens a confirm dialog with a
 * required reason, which the security event log records. A role without the action gets no button.
 */
import type { ActionResult } from "@/lib/dashboard/server-action";
import { ConfirmDialog } from "../ui/confirm-dialog";
import { useActionRefresh } from "../use-action-refresh";

type ClientAction = (form: FormData) => Promise<ActionResult<unknown>>;

export interface ClientActionSet {
  quarantine?: ClientAction;
  release?: ClientAction;
  revoke?: ClientAction;
}

function ReasonField({ id }: { id: string }) {
  return (
    <>
      <label htmlFor={id}>Reason (recorded in the security event log)</label>
      <textarea id={id} name="reason" required maxLength={500} rows={3} />
    </>
  );
}

function withClient(action: ClientAction | undefined, clientId: string) {
  return (form: FormData) => {
    if (!action) return Promise.reject(new Error("this role cannot perform the action"));
    form.set("clientId", clientId);
    return action(form);
  };
}

export function ClientActionButtons({
  clientId,
  status,
  actions,
}: {
  clientId: string;
  status: string;
  actions: ClientActionSet;
}) {
  const refresh = useActionRefresh();
  const fieldId = (name: string) => `${name}-reason-${clientId}`;
  return (
    <div className="button-row">
      {actions.quarantine && status === "active" && (
        <ConfirmDialog
          label="Quarantine"
          ariaLabel={`Quarantine ${clientId}`}
          title={`Quarantine ${clientId}?`}
          description="Its updates stay scored but are left out of aggregation until it is released."
          confirmLabel="Quarantine"
          tone="danger"
          onConfirm={withClient(actions.quarantine, clientId)}
          onSuccess={refresh}
        >
          <ReasonField id={fieldId("quarantine")} />
        </ConfirmDialog>
      )}
      {actions.release && status === "quarantined" && (
        <ConfirmDialog
          label="Release"
          ariaLabel={`Release ${clientId}`}
          title={`Release ${clientId} from quarantine?`}
          description="Its next updates are aggregated again, weighted by its reputation."
          confirmLabel="Release"
          onConfirm={withClient(actions.release, clientId)}
          onSuccess={refresh}
        >
          <ReasonField id={fieldId("release")} />
        </ConfirmDialog>
      )}
      {actions.revoke && status !== "revoked" && (
        <ConfirmDialog
          label="Revoke"
          ariaLabel={`Revoke ${clientId}`}
          title={`Revoke ${clientId}?`}
          description="Every credential of the client is revoked and its next request is rejected. This cannot be undone."
          confirmLabel="Revoke"
          tone="danger"
          onConfirm={withClient(actions.revoke, clientId)}
          onSuccess={refresh}
        >
          <ReasonField id={fieldId("revoke")} />
        </ConfirmDialog>
      )}
    </div>
  );
}
