"use server";

import { createOperatorAccountByAdmin } from "@/lib/dashboard/operations";
import { type ActionResult, runDashboardAction } from "@/lib/dashboard/server-action";
import { getPrisma } from "@/lib/db";
import { createAccountSchema } from "@/lib/validations/dashboard";

export async function createOperatorAccountAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<{ accountId: string }>> {
  return runDashboardAction(
    "createOperatorAccount",
    createAccountSchema,
    input,
    async (actor, data) => {
      const account = await createOperatorAccountByAdmin(getPrisma(), actor, data);
      return {
        message: `Account ${account.email} created with the ${data.role} role.`,
        data: { accountId: account.accountId },
      };
    },
  );
}
