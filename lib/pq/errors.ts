/**
 * Typed failures of the wire formats. The `code` strings are stable: the server maps them to HTTP
 * statuses and security events, so renaming one is a breaking change.
 */

/** Failure codes for an update envelope. */
export type EnvelopeErrorCode =
  | "malformed"
  | "bad_signature"
  | "decryption_failed"
  | "digest_mismatch"
  | "non_finite"
  | "manifest_mismatch";

export class EnvelopeError extends Error {
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "EnvelopeError";
  }
}

/** Failure codes for the handshake and the signed statements (model, credential, receipt...). */
export type ProtocolErrorCode =
  | "malformed"
  | "bad_signature"
  | "wrong_server_key"
  | "stale_timestamp"
  | "decapsulation_failed"
  | "digest_mismatch"
  | "non_finite"
  | "manifest_mismatch";

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}
