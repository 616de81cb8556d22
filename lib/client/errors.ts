/**
 * Typed failures of the client SDK. Callers branch on the class and its `code`, never on the
 * message text.
 */

/** Base class of every error the SDK throws on purpose. */
export class ClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClientError";
  }
}

/** The request never got an HTTP response: it timed out or the connection failed. */
export class TransportError extends ClientError {
  constructor(
    readonly kind: "timeout" | "network",
    readonly url: string,
    readonly attempts: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TransportError";
  }
}

/**
 * The server responded with an error status: a rejection (4xx, with the server's `code` such as
 * "round_closed") or a server failure (5xx) that persisted through every retry.
 */
export class ServerRejectedError extends ClientError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly requestId: string | undefined,
    readonly operation: string,
    readonly attempts: number,
  ) {
    super(
      `${operation} failed with HTTP ${status} ${code}: ${serverMessage}${requestId ? ` (request ${requestId})` : ""}`,
    );
    this.name = "ServerRejectedError";
  }
}

/** The kind of server data that failed verification. */
export type VerificationSubject =
  | "model"
  | "receipt"
  | "credential"
  | "server_key"
  | "session"
  | "response";

/**
 * Something the server sent failed a cryptographic or consistency check, so the SDK rejected it.
 * `code` is a ProtocolError code ("bad_signature", "digest_mismatch", ...) or one of the SDK's
 * own: "pin_mismatch", "server_key_changed", "wrong_federation", "wrong_version", "wrong_client",
 * "wrong_round", "wrong_update", "key_mismatch", "expired", "session_mismatch" and
 * "invalid_response".
 */
export class VerificationError extends ClientError {
  constructor(
    readonly subject: VerificationSubject,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "VerificationError";
  }
}

/**
 * The client's state folder has no enrollment (reason "missing"), or its files are unreadable,
 * readable by other users, malformed or inconsistent (reason "invalid").
 */
export class StateError extends ClientError {
  constructor(
    readonly path: string,
    message: string,
    readonly reason: "missing" | "invalid" = "invalid",
  ) {
    super(message);
    this.name = "StateError";
  }
}
