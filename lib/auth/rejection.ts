/**
 * A rejected client request: the HTTP status, a stable error code for the JSON body, and what the
 * security event log records about it. Route handlers turn it into
 * `{ "error": code, "message": text }` with the status, and write exactly one security event.
 */
import type { EventType, Severity } from "../generated/prisma/client";

export type RejectionStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422;

export class ClientRejection extends Error {
  constructor(
    readonly status: RejectionStatus,
    readonly code: string,
    message: string,
    readonly event: { type: EventType; severity: Severity; clientId?: string | null } = {
      type: "authentication",
      severity: "medium",
    },
  ) {
    super(message);
    this.name = "ClientRejection";
  }
}

export function reject(
  status: RejectionStatus,
  code: string,
  message: string,
  event?: { type?: EventType; severity?: Severity; clientId?: string | null },
): ClientRejection {
  return new ClientRejection(status, code, message, {
    type: event?.type ?? "authentication",
    severity: event?.severity ?? "medium",
    clientId: event?.clientId ?? null,
  });
}
