/**
 * The steps every dashboard JSON route takes: require a signed-in operator (any role may read),
 * load the data through lib/dashboard, and return JSON that is never cached. A signed-out request
 * gets 401 and a role that is too low gets 403, as `{ error, message }`; invalid query strings get
 * 400, unknown ids 404, and anything unexpected 500 after it is logged.
 */
import { ZodError } from "zod";
import { AuthorizationError, type OperatorSession, requireRole } from "../auth/session";
import { logger } from "../logger";
import { fieldErrorsOf } from "../validations/dashboard";
import { DashboardNotFoundError } from "./errors";
import type { DashboardRole } from "./permissions";

const NO_STORE = { "cache-control": "no-store" };

function errorResponse(status: number, error: string, message: string): Response {
  return Response.json({ error, message }, { status, headers: NO_STORE });
}

/** Runs a dashboard route handler body and maps its failures to JSON responses. */
export async function handleDashboardRequest<T>(
  request: Request,
  load: (session: OperatorSession, url: URL) => Promise<T>,
  minimumRole: DashboardRole = "viewer",
): Promise<Response> {
  let session: OperatorSession;
  try {
    session = await requireRole(minimumRole);
  } catch (error) {
    if (error instanceof AuthorizationError) {
      return errorResponse(
        error.status,
        error.status === 401 ? "unauthorized" : "forbidden",
        error.message,
      );
    }
    throw error;
  }

  const url = new URL(request.url);
  try {
    const data = await load(session, url);
    return Response.json(data, { headers: NO_STORE });
  } catch (error) {
    if (error instanceof ZodError) {
      const fields = fieldErrorsOf(error);
      const detail = Object.entries(fields)
        .map(([field, message]) => `${field}: ${message}`)
        .join("; ");
      return errorResponse(400, "invalid_query", `invalid query string: ${detail}`);
    }
    if (error instanceof DashboardNotFoundError) {
      return errorResponse(404, "not_found", error.message);
    }
    if (error instanceof RangeError) {
      return errorResponse(400, "invalid_query", error.message);
    }
    logger.error(
      { err: error, path: url.pathname, operatorId: session.id },
      "dashboard route failed",
    );
    return errorResponse(
      500,
      "internal_error",
      "the dashboard data could not be loaded; the server log has the details",
    );
  }
}
