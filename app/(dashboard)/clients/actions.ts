"use server";

import { getConfig } from "@/lib/config";
import {
  type IssuedTokenView,
  issueEnrollmentTokenByOperator,
  quarantineClientByOperator,
  releaseClientByOperator,
  revokeClientByOperator,
} from "@/lib/dashboard/operations";
import { type ActionResult, runDashboardAction } from "@/lib/dashboard/server-action";
import { getPrisma } from "@/lib/db";
import { clientActionSchema, issueTokenSchema } from "@/lib/validations/dashboard";

export async function issueEnrollmentTokenAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<IssuedTokenView>> {
  return runDashboardAction(
    "issueEnrollmentToken",
    issueTokenSchema,
    input,
    async (actor, data) => {
      const issued = await issueEnrollmentTokenByOperator(getPrisma(), getConfig(), actor, data);
      return {
        message: "Enrollment token issued. Copy it now: it is not shown again.",
        data: issued,
      };
    },
  );
}

export async function quarantineClientAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult> {
  return runDashboardAction("quarantineClient", clientActionSchema, input, async (actor, data) => {
    await quarantineClientByOperator(getPrisma(), actor, data);
    return { message: `Client ${data.clientId} quarantined.`, data: null };
  });
}

export async function releaseClientAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult> {
  return runDashboardAction("releaseClient", clientActionSchema, input, async (actor, data) => {
    await releaseClientByOperator(getPrisma(), actor, data);
    return { message: `Client ${data.clientId} released from quarantine.`, data: null };
  });
}

export async function revokeClientAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<{ credentialsRevoked: number }>> {
  return runDashboardAction("revokeClient", clientActionSchema, input, async (actor, data) => {
    const revoked = await revokeClientByOperator(getPrisma(), actor, data);
    return {
      message: `Client ${data.clientId} revoked (${revoked.credentialsRevoked} credentials).`,
      data: revoked,
    };
  });
}
