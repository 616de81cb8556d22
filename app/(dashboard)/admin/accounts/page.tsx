import { AccountForm } from "@/components/dashboard/account-form";
import { formatTime } from "@/components/format";
import { Badge } from "@/components/ui/badge";
import { NeedsRole } from "@/components/ui/needs-role";
import { listOperatorAccounts } from "@/lib/dashboard/accounts";
import { getPrisma } from "@/lib/db";
import { requirePageSession } from "../../page-session";
import { createOperatorAccountAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function AccountsPage() {
  const { can } = await requirePageSession();
  if (!can.createOperatorAccount) {
    return (
      <>
        <h1>Operator accounts</h1>
        <NeedsRole needed="admin" what="Managing operator accounts" />
      </>
    );
  }
  const accounts = await listOperatorAccounts(getPrisma());
  return (
    <>
      <h1>Operator accounts</h1>
      <section className="panel" aria-labelledby="accounts-title">
        <h2 id="accounts-title">Accounts</h2>
        <p className="muted">
          Viewers read everything. Operators also start and stop federations, issue enrollment
          tokens, quarantine, release and revoke clients, and handle alerts and alert rules. Admins
          also manage accounts.
        </p>
        <div className="table-wrap">
          <table data-testid="account-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {accounts.map((account) => (
                <tr key={account.id} data-email={account.email}>
                  <th scope="row">
                    {account.email}
                    {account.disabled && " (disabled)"}
                  </th>
                  <td>{account.name ?? "–"}</td>
                  <td>
                    <Badge
                      value={
                        account.role === "admin"
                          ? "high"
                          : account.role === "operator"
                            ? "medium"
                            : "low"
                      }
                      label={account.role}
                    />
                  </td>
                  <td>{formatTime(account.lastLoginAt)}</td>
                  <td>{formatTime(account.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <AccountForm createAccount={createOperatorAccountAction} />
    </>
  );
}
