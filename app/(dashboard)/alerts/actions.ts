"use server";

import { getConfig } from "@/lib/config";
import {
  acknowledgeAlertByOperator,
  resolveAlertByOperator,
  saveAlertRuleByOperator,
} from "@/lib/dashboard/operations";
import { type ActionResult, runDashboardAction } from "@/lib/dashboard/server-action";
import { getPrisma } from "@/lib/db";
import {
  acknowledgeAlertSchema,
  alertRuleSchema,
  resolveAlertSchema,
} from "@/lib/validations/dashboard";

export async function acknowledgeAlertAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult> {
  return runDashboardAction(
    "acknowledgeAlert",
    acknowledgeAlertSchema,
    input,
    async (actor, data) => {
      const alert = await acknowledgeAlertByOperator(getPrisma(), getConfig(), actor, data);
      return { message: `Alert "${alert.title}" acknowledged.`, data: null };
    },
  );
}

export async function resolveAlertAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult> {
  return runDashboardAction("resolveAlert", resolveAlertSchema, input, async (actor, data) => {
    const alert = await resolveAlertByOperator(getPrisma(), getConfig(), actor, data);
    return { message: `Alert "${alert.title}" resolved.`, data: null };
  });
}

export async function saveAlertRuleAction(
  input: FormData | Record<string, unknown>,
): Promise<ActionResult<{ ruleId: string }>> {
  return runDashboardAction("saveAlertRule", alertRuleSchema, input, async (actor, data) => {
    const rule = await saveAlertRuleByOperator(getPrisma(), getConfig(), actor, data);
    return { message: `Rule "${rule.name}" saved.`, data: { ruleId: rule.id } };
  });
}
