"use server";

import { getConfig } from "@/lib/config";
import {
  createFederationByOperator,
  runDemoFederationByOperator,
  startFederationByOperator,
  stopFederationByOperator,
} from "@/lib/dashboard/operations";
import { type ActionResult, runDashboardAction } from "@/lib/dashboard/server-action";
import { getPrisma } from "@/lib/db";
import {
  createFederationSchema,
  federationActionSchema,
  runDemoSchema,
} from "@/lib/validations/dashboard";

export async function createFederationAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<{ federationId: string }>> {
  return runDashboardAction(
    "createFederation",
    createFederationSchema,
    input,
    async (actor, data) => {
      const created = await createFederationByOperator(getPrisma(), getConfig(), actor, data);
      return {
        message: `Federation "${created.name}" created. Start it when its clients are enrolled.`,
        data: { federationId: created.federationId },
      };
    },
  );
}

export async function startFederationAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<{ roundNumber: number }>> {
  return runDashboardAction(
    "startFederation",
    federationActionSchema,
    input,
    async (actor, data) => {
      const started = await startFederationByOperator(getPrisma(), actor, data);
      return {
        message: `Federation started: round ${started.roundNumber} is open.`,
        data: started,
      };
    },
  );
}

export async function stopFederationAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult> {
  return runDashboardAction(
    "stopFederation",
    federationActionSchema,
    input,
    async (actor, data) => {
      await stopFederationByOperator(getPrisma(), actor, data);
      return { message: "Federation stopped; its open round is marked failed.", data: null };
    },
  );
}

export async function runDemoFederationAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<{ federationId: string }>> {
  return runDashboardAction("runDemoFederation", runDemoSchema, input, async (actor) => {
    const launched = await runDemoFederationByOperator(getPrisma(), getConfig(), actor);
    return {
      message: `Demo federation "${launched.name}" started with 6 honest and 2 malicious client processes; their output goes to ${launched.logFile}.`,
      data: { federationId: launched.federationId },
    };
  });
}
