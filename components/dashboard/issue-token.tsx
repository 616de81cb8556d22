"use client";
/**
 * Issues a one-time enrollment token. The token appears once in the dialog with a copy button;
 * the server stores only its hash, so closing the dialog loses it.
 */
import { useState } from "react";
import type { IssuedTokenView } from "@/lib/dashboard/operations";
import type { ActionResult } from "@/lib/dashboard/server-action";
import { formatTime } from "../format";
import { ConfirmDialog } from "../ui/confirm-dialog";

function TokenDisplay({ issued }: { issued: IssuedTokenView }) {
  const [copied, setCopied] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied("Copied to the clipboard.");
    } catch {
      setCopied("The browser refused the clipboard: select the token and copy it by hand.");
    }
  }
  return (
    <div>
      <label htmlFor="issued-token">Enrollment token</label>
      <input
        id="issued-token"
        readOnly
        value={issued.token}
        data-testid="issued-token"
        onFocus={(e) => e.currentTarget.select()}
      />
      <p>
        <button type="button" className="secondary" onClick={copy}>
          Copy token
        </button>{" "}
        <span role="status">{copied}</span>
      </p>
      <p className="muted">
        Valid until {formatTime(issued.expiresAt)}
        {issued.clientId ? ` for client ${issued.clientId}` : " for any new client id"}. Pass it to
        the client once; it cannot be shown again.
      </p>
    </div>
  );
}

export function IssueTokenButton({
  federations,
  issue,
  onIssued,
}: {
  federations: { id: string; name: string }[];
  issue: (form: FormData) => Promise<ActionResult<IssuedTokenView>>;
  onIssued: () => void;
}) {
  return (
    <ConfirmDialog<IssuedTokenView>
      label="Issue enrollment token"
      title="Issue an enrollment token"
      description="The client uses the token once to register its own public keys."
      confirmLabel="Issue token"
      onConfirm={issue}
      onSuccess={onIssued}
      renderSuccess={(issued) => <TokenDisplay issued={issued} />}
    >
      <label htmlFor="token-client-id">
        Client id (optional: leave empty to let the client choose)
      </label>
      <input
        id="token-client-id"
        name="clientId"
        maxLength={64}
        pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
      />
      <label htmlFor="token-federation">Federation</label>
      <select id="token-federation" name="federationId" defaultValue={federations[0]?.id ?? ""}>
        <option value="">(none)</option>
        {federations.map((f) => (
          <option key={f.id} value={f.id}>
            {f.name}
          </option>
        ))}
      </select>
    </ConfirmDialog>
  );
}
