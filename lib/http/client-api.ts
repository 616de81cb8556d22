/**
 * Shared plumbing of the client REST routes (/api/v1): the intake context from configuration and
 * environment, and the mapping of failures to JSON responses. A ClientRejection becomes its
 * status with `{ error, message, requestId }` and exactly one security event. Anything else is
 * logged and returned as a 500 without details.
 */
import { randomUUID } from "node:crypto";
import { ClientRejection } from "../auth/rejection";
import { getServerKeys, parseMasterKey } from "../auth/server-keys";
import { getConfig } from "../config";
import { getPrisma, type PrismaClient } from "../db";
import type { IntakeContext } from "../fl/intake";
import { logger } from "../logger";
import { SecurityEventLogger } from "../monitoring/security-events";

export async function getIntakeContext(): Promise<IntakeContext> {
  const config = getConfig();
  const prisma = getPrisma();
  const masterKey = parseMasterKey(process.env.QSFL_MASTER_KEY);
  return {
    prisma,
    masterKey,
    serverKeys: await getServerKeys(prisma, masterKey),
    limits: {
      maxUpdateBytes: config.security.maxUpdateBytes,
      timestampSkewMs: config.security.timestampSkewSeconds * 1000,
      sessionLifetimeMs: config.security.sessionLifetimeSeconds * 1000,
      sessionMaxUpdates: config.security.sessionMaxUpdates,
    },
  };
}

/** Runs a client route handler, turning rejections and crashes into JSON responses. */
export async function handleClientRequest(
  route: string,
  request: Request,
  handler: (requestId: string) => Promise<Response>,
): Promise<Response> {
  const requestId = request.headers.get("x-request-id")?.slice(0, 64) || randomUUID();
  try {
    return await handler(requestId);
  } catch (error) {
    if (error instanceof ClientRejection) {
      // An unknown federation or model is not an attack on anyone's data, and logging each one
      // would let anonymous requests fill the hash-chained log without limit.
      if (error.status === 404)
        logger.info(
          { route, requestId, code: error.code },
          "client request for a missing resource",
        );
      else await recordRejection(route, requestId, error);
      return Response.json(
        { error: error.code, message: error.message, requestId },
        { status: error.status, headers: { "x-request-id": requestId } },
      );
    }
    logger.error({ err: error, route, requestId }, "client request failed");
    return Response.json(
      {
        error: "internal_error",
        message: "the server failed to process the request; retry later",
        requestId,
      },
      { status: 500, headers: { "x-request-id": requestId } },
    );
  }
}

/** Logs a rejected client request and records it as one security event. */
export async function recordRejection(
  route: string,
  requestId: string,
  rejection: ClientRejection,
  prisma: PrismaClient = getPrisma(),
): Promise<void> {
  logger.warn(
    {
      route,
      requestId,
      code: rejection.code,
      status: rejection.status,
      clientId: rejection.event.clientId,
    },
    "client request rejected",
  );
  try {
    await new SecurityEventLogger(prisma).logEvent({
      type: rejection.event.type,
      severity: rejection.event.severity,
      clientId: rejection.event.clientId ?? null,
      description: `${route} rejected: ${rejection.message}`,
      metadata: {
        route,
        requestId,
        code: rejection.code,
        status: rejection.status,
        success: false,
      },
    });
  } catch (error) {
    logger.error(
      { err: error, requestId, code: rejection.code },
      "could not record the rejection as a security event",
    );
  }
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

export function fromBase64(value: unknown, field: string, clientId?: string | null): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new ClientRejection(400, "malformed", `${field} must be a base64 string`, {
      type: "authentication",
      severity: "low",
      clientId: clientId ?? null,
    });
  }
  return new Uint8Array(Buffer.from(value, "base64"));
}

/**
 * Records a successful change to a client's identity (enrollment, key rotation) as an
 * authentication event. A failure to record is logged and does not undo the change.
 */
export async function recordClientEvent(event: {
  clientId: string;
  description: string;
  metadata: Record<string, unknown>;
}): Promise<void> {
  try {
    await new SecurityEventLogger(getPrisma()).logEvent({
      type: "authentication",
      severity: "low",
      clientId: event.clientId,
      description: event.description,
      metadata: { ...event.metadata, success: true },
    });
  } catch (error) {
    logger.error({ err: error, clientId: event.clientId }, "could not record the client event");
  }
}
