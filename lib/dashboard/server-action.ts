/**
 * The steps every dashboard server action takes, in order: check the role on the server
 * (requireRole with ACTION_ROLES), parse the input with the action's zod schema, perform it, and
 * turn every known failure into an ActionResult that the form shows. A denied call is recorded as
 * a security event, because the dashboard never offers it to that role, so someone sent it by
 * hand. Unexpected errors are logged with the action and operator, and the result carries no details.
 */
import type { z } from "zod";
import { AuthorizationError, getOperatorSession, requireRole } from "../auth/session";
import { getPrisma } from "../db";
import { FederationStateError } from "../fl/federation";
import { logger } from "../logger";
import { AlertNotFoundError, AlertTransitionError } from "../monitoring/errors";
import { SecurityEventLogger } from "../monitoring/security-events";
import { type FieldErrors, fieldErrorsOf } from "../validations/dashboard";
import { DashboardNotFoundError, DashboardStateError } from "./errors";
import type { Actor } from "./operations";
import { ACTION_ROLES, type DashboardAction } from "./permissions";

export type ActionResult<T = null> =
  | { ok: true; message: string; data: T }
  | { ok: false; status: number; error: string; fieldErrors?: FieldErrors };

/** The result of a performed action: the message shown to the operator and optional data. */
export interface ActionSuccess<T> {
  message: string;
  data: T;
}

function inputRecord(input: unknown): unknown {
  if (typeof FormData !== "undefined" && input instanceof FormData) {
    const record: Record<string, FormDataEntryValue> = {};
    for (const [key, value] of input) {
      if (!key.startsWith("$ACTION")) record[key] = value;
    }
    return record;
  }
  return input;
}

async function recordDenied(action: DashboardAction, error: AuthorizationError): Promise<void> {
  try {
    const events = new SecurityEventLogger(getPrisma());
    const session = error.status === 403 ? await getOperatorSession() : null;
    const details = {
      dashboardAction: action,
      requiredRole: ACTION_ROLES[action],
      status: error.status,
      success: false,
    };
    if (session) {
      await events.logOperatorAction(
        session.id,
        `denied ${action}`,
        { ...details, operatorEmail: session.email, role: session.role },
        "medium",
      );
    } else {
      await events.logEvent({
        type: "authentication",
        severity: "medium",
        description: `dashboard action ${action} rejected: no signed-in operator`,
        metadata: details,
      });
    }
  } catch (logError) {
    logger.error({ err: logError, action }, "could not record a denied dashboard action");
  }
}

/** Maps an error from lib to the result a form shows, or returns null when it is unexpected. */
export function knownFailure(error: unknown): Extract<ActionResult, { ok: false }> | null {
  if (error instanceof AuthorizationError) {
    return { ok: false, status: error.status, error: error.message };
  }
  if (error instanceof DashboardNotFoundError || error instanceof AlertNotFoundError) {
    return { ok: false, status: 404, error: error.message };
  }
  if (
    error instanceof DashboardStateError ||
    error instanceof FederationStateError ||
    error instanceof AlertTransitionError
  ) {
    return { ok: false, status: 409, error: error.message };
  }
  if (error instanceof Error && error.name === "OperatorInputError") {
    const field = (error as Error & { field?: string }).field ?? "form";
    return {
      ok: false,
      status: 400,
      error: error.message,
      fieldErrors: { [field]: error.message },
    };
  }
  if (error instanceof Error && error.name === "ModelSpecError") {
    return { ok: false, status: 400, error: error.message };
  }
  if (error instanceof RangeError || error instanceof TypeError) {
    return { ok: false, status: 400, error: error.message };
  }
  if ((error as { code?: unknown })?.code === "P2002") {
    return { ok: false, status: 409, error: "a record with the same unique name already exists" };
  }
  return null;
}

/** Runs one dashboard action for the signed-in operator and returns its result. */
export async function runDashboardAction<S extends z.ZodType, T>(
  action: DashboardAction,
  schema: S,
  input: unknown,
  perform: (actor: Actor, data: z.output<S>) => Promise<ActionSuccess<T>>,
): Promise<ActionResult<T>> {
  let actor: Actor;
  try {
    const session = await requireRole(ACTION_ROLES[action]);
    actor = { id: session.id, email: session.email, role: session.role };
  } catch (error) {
    if (!(error instanceof AuthorizationError)) throw error;
    await recordDenied(action, error);
    return { ok: false, status: error.status, error: error.message };
  }

  const parsed = schema.safeParse(inputRecord(input));
  if (!parsed.success) {
    const fieldErrors = fieldErrorsOf(parsed.error);
    return {
      ok: false,
      status: 400,
      error: `invalid input: ${Object.entries(fieldErrors)
        .map(([field, message]) => `${field}: ${message}`)
        .join("; ")}`,
      fieldErrors,
    };
  }

  try {
    const done = await perform(actor, parsed.data);
    return { ok: true, message: done.message, data: done.data };
  } catch (error) {
    const failure = knownFailure(error);
    if (failure) return failure;
    logger.error(
      { err: error, action, operatorId: actor.id },
      "dashboard action failed unexpectedly",
    );
    return {
      ok: false,
      status: 500,
      error: `the ${action} action failed on the server; the server log has the details`,
    };
  }
}
