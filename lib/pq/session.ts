/**
 * Session handshake: one X-Wing encapsulation and one ML-DSA-65 signature open a session whose
 * 32-byte key then protects a bounded number of updates.
 *
 * Decapsulating X-Wing for every update would cost more than verifying the update's signature, so
 * the client encapsulates once per session. The client signs the handshake (client id, SHA-256
 * fingerprint of the server's X-Wing public key, X-Wing ciphertext, timestamp, 16-byte nonce) under
 * the handshake context, which authenticates the key exchange to the server. Both sides then run
 * HKDF-SHA-256 over the X-Wing shared secret:
 *
 *   salt = handshake nonce
 *   session key = HKDF(ss, salt, "qsfl-caad/session-key/v1" || client id || fingerprint || T, 32)
 *   session id  = HKDF(ss, salt, "qsfl-caad/session-id/v1"  || client id || fingerprint || T, 16)
 *
 * where T = SHA-256 of the signed handshake bytes. Deriving the session id (instead of having the
 * server pick one) saves a round trip, and it reveals nothing about the key because HKDF outputs
 * under different info strings are independent.
 *
 * Each update is encrypted under its own key, HKDF(session key, salt = update nonce,
 * "qsfl-caad/update-key/v1" || session id, 32), so an AES-GCM key never encrypts twice and the
 * 12-byte GCM IV is fixed at zero. GCM needs (key, IV) pairs to be unique. With a fresh 16-byte
 * random nonce per update, two of n updates in a session share a key with probability about
 * n^2 / 2^129.
 *
 * The session key is the unit of compromise. An attacker who reads it from client memory or from
 * the server's session table can decrypt every update of that session, but no other session. The
 * limits below bound that exposure, and the server enforces them.
 */

import {
  assertBytes,
  assertIdentifier,
  assertInteger,
  equalBytes,
  randomBytes,
  wipe,
} from "./bytes";
import { ByteReader, ByteWriter, CodecError } from "./codec";
import { ProtocolError } from "./errors";
import { X_WING, XWingKem } from "./kem";
import { DilithiumSigner, HANDSHAKE_CONTEXT, ML_DSA_65 } from "./signature";
import { hkdfSha256, sha256 } from "./symmetric";

export const HANDSHAKE_MAGIC = Uint8Array.of(0x51, 0x53, 0x48, 0x53); // "QSHS"
export const HANDSHAKE_VERSION = 1;
export const NONCE_BYTES = 16;
export const SESSION_ID_BYTES = 16;
export const SESSION_KEY_BYTES = 32;
export const MAX_ID_BYTES = 128;

/** Handshakes older or newer than this relative to the server clock are rejected by default. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const SESSION_KEY_LABEL = "qsfl-caad/session-key/v1";
const SESSION_ID_LABEL = "qsfl-caad/session-id/v1";
const UPDATE_KEY_LABEL = "qsfl-caad/update-key/v1";

export interface SessionKeys {
  sessionId: Uint8Array;
  sessionKey: Uint8Array;
}

export interface HandshakeInit {
  clientId: string;
  /** The server's X-Wing public key, as published with its fingerprint. */
  serverPublicKey: Uint8Array;
  /** The client's ML-DSA-65 secret key. */
  signingSecretKey: Uint8Array;
  /** Defaults to Date.now(). */
  timestampMs?: number;
  /** Defaults to 16 random bytes. */
  nonce?: Uint8Array;
  /** X-Wing encapsulation randomness, for known-answer tests only. */
  randomness?: Uint8Array;
}

export interface ParsedHandshake {
  version: number;
  clientId: string;
  serverKeyFingerprint: Uint8Array;
  ciphertext: Uint8Array;
  timestampMs: number;
  nonce: Uint8Array;
  /** The signed bytes: everything before the signature. */
  body: Uint8Array;
  signature: Uint8Array;
}

export interface HandshakeAcceptance {
  serverSecretKey: Uint8Array;
  serverPublicKey: Uint8Array;
  /** The client's registered ML-DSA-65 public key, looked up by parsed.clientId. */
  clientPublicKey: Uint8Array;
  nowMs: number;
  maxClockSkewMs?: number;
}

/**
 * Builds the client's handshake message (body || signature) and the session it opens. The client
 * keeps `session` and sends `message`; the server opens the same session with acceptHandshake.
 */
export function createHandshake(init: HandshakeInit): {
  message: Uint8Array;
  session: SessionKeys;
} {
  const clientId = assertIdentifier(init.clientId, "clientId", MAX_ID_BYTES);
  assertBytes(init.serverPublicKey, "serverPublicKey", X_WING.publicKeyBytes, "X-Wing public key");
  assertBytes(init.signingSecretKey, "signingSecretKey", ML_DSA_65.secretKeyBytes);
  const timestampMs = assertInteger(
    init.timestampMs ?? Date.now(),
    "timestampMs",
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const nonce = init.nonce ?? randomBytes(NONCE_BYTES);
  assertBytes(nonce, "nonce", NONCE_BYTES);

  const { ciphertext, sharedSecret } = XWingKem.encapsulate(init.serverPublicKey, init.randomness);
  const fingerprint = sha256(init.serverPublicKey);
  const body = new ByteWriter()
    .bytes(HANDSHAKE_MAGIC)
    .u8(HANDSHAKE_VERSION)
    .string(clientId)
    .bytes(fingerprint)
    .bytes(ciphertext)
    .u64(timestampMs)
    .bytes(nonce)
    .finish();
  const signature = DilithiumSigner.sign(body, init.signingSecretKey, HANDSHAKE_CONTEXT);
  const session = deriveSession(sharedSecret, nonce, clientId, fingerprint, body);
  wipe(sharedSecret);

  const message = new Uint8Array(body.length + signature.length);
  message.set(body, 0);
  message.set(signature, body.length);
  return { message, session };
}

/** Decodes a handshake message without any cryptography; throws ProtocolError "malformed". */
export function parseHandshake(message: Uint8Array): ParsedHandshake {
  assertBytes(message, "message");
  try {
    const reader = new ByteReader(message);
    const magic = reader.bytes(HANDSHAKE_MAGIC.length, "magic");
    if (!equalBytes(magic, HANDSHAKE_MAGIC)) throw new CodecError("magic: not a handshake");
    const version = reader.u8("version");
    if (version !== HANDSHAKE_VERSION) {
      throw new CodecError(`version: ${version}, expected ${HANDSHAKE_VERSION}`);
    }
    const clientId = reader.identifier("clientId", MAX_ID_BYTES);
    const serverKeyFingerprint = reader.bytes(32, "serverKeyFingerprint");
    const ciphertext = reader.bytes(X_WING.ciphertextBytes, "ciphertext");
    const timestampMs = reader.u64("timestampMs");
    const nonce = reader.bytes(NONCE_BYTES, "nonce");
    const bodyLength = reader.offset;
    const signature = reader.bytes(ML_DSA_65.signatureBytes, "signature");
    reader.end("handshake");
    return {
      version,
      clientId,
      serverKeyFingerprint,
      ciphertext,
      timestampMs,
      nonce,
      body: message.subarray(0, bodyLength),
      signature,
    };
  } catch (error) {
    if (error instanceof CodecError) {
      throw new ProtocolError("malformed", `handshake: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Verifies a parsed handshake and opens its session on the server. Checks, cheapest first: the
 * fingerprint names this server's key ("wrong_server_key"), the timestamp is within the allowed
 * skew ("stale_timestamp"), the client's signature ("bad_signature"), then decapsulates
 * ("decapsulation_failed"). The caller must also reject a session id it has seen before, because
 * a replayed handshake yields the same session.
 */
export function acceptHandshake(parsed: ParsedHandshake, accept: HandshakeAcceptance): SessionKeys {
  assertBytes(accept.serverSecretKey, "serverSecretKey", X_WING.secretKeyBytes);
  assertBytes(accept.serverPublicKey, "serverPublicKey", X_WING.publicKeyBytes);
  assertBytes(accept.clientPublicKey, "clientPublicKey", ML_DSA_65.publicKeyBytes);
  const nowMs = assertInteger(accept.nowMs, "nowMs", 0, Number.MAX_SAFE_INTEGER);
  const maxSkew = assertInteger(
    accept.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS,
    "maxClockSkewMs",
    0,
    Number.MAX_SAFE_INTEGER,
  );

  const fingerprint = sha256(accept.serverPublicKey);
  if (!equalBytes(parsed.serverKeyFingerprint, fingerprint)) {
    throw new ProtocolError(
      "wrong_server_key",
      `handshake from "${parsed.clientId}" is encapsulated to another server key`,
    );
  }
  const skew = Math.abs(nowMs - parsed.timestampMs);
  if (skew > maxSkew) {
    throw new ProtocolError(
      "stale_timestamp",
      `handshake from "${parsed.clientId}" is ${skew} ms off the server clock, limit ${maxSkew} ms`,
    );
  }
  const signed = DilithiumSigner.verify(
    parsed.body,
    parsed.signature,
    accept.clientPublicKey,
    HANDSHAKE_CONTEXT,
  );
  if (!signed) {
    throw new ProtocolError(
      "bad_signature",
      `handshake signature does not verify under the key of "${parsed.clientId}"`,
    );
  }
  let sharedSecret: Uint8Array;
  try {
    sharedSecret = XWingKem.decapsulate(parsed.ciphertext, accept.serverSecretKey);
  } catch (error) {
    throw new ProtocolError(
      "decapsulation_failed",
      `handshake from "${parsed.clientId}": X-Wing decapsulation failed (${(error as Error).message})`,
    );
  }
  const session = deriveSession(
    sharedSecret,
    parsed.nonce,
    parsed.clientId,
    fingerprint,
    parsed.body,
  );
  wipe(sharedSecret);
  return session;
}

/** Derives the AES-256-GCM key of one update from the session key and the update's nonce. */
export function deriveUpdateKey(
  sessionKey: Uint8Array,
  sessionId: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  assertBytes(sessionKey, "sessionKey", SESSION_KEY_BYTES);
  assertBytes(sessionId, "sessionId", SESSION_ID_BYTES);
  assertBytes(nonce, "nonce", NONCE_BYTES);
  const info = new ByteWriter().string(UPDATE_KEY_LABEL).bytes(sessionId).finish();
  return hkdfSha256(sessionKey, nonce, info, 32);
}

function deriveSession(
  sharedSecret: Uint8Array,
  nonce: Uint8Array,
  clientId: string,
  fingerprint: Uint8Array,
  body: Uint8Array,
): SessionKeys {
  const transcript = sha256(body);
  const info = (label: string) =>
    new ByteWriter().string(label).string(clientId).bytes(fingerprint).bytes(transcript).finish();
  return {
    sessionKey: hkdfSha256(sharedSecret, nonce, info(SESSION_KEY_LABEL), SESSION_KEY_BYTES),
    sessionId: hkdfSha256(sharedSecret, nonce, info(SESSION_ID_LABEL), SESSION_ID_BYTES),
  };
}

/** How long and for how many updates one session key may be used. */
export interface SessionLimits {
  maxAgeMs: number;
  maxUpdates: number;
}

/**
 * Policy defaults, not measured values: one hour or 100 updates, whichever comes first. With one
 * update per round this is usually the time limit, so a leaked session key exposes at most one
 * hour of a client's updates.
 */
export const DEFAULT_SESSION_LIMITS: SessionLimits = Object.freeze({
  maxAgeMs: 60 * 60 * 1000,
  maxUpdates: 100,
});

export interface SessionUsage {
  establishedAtMs: number;
  /** Updates already accepted under this session, not counting the one being checked. */
  updatesUsed: number;
}

export type SessionCheck =
  | { usable: true }
  | { usable: false; reason: "expired" | "update_limit" | "not_yet_valid" };

export function assertSessionLimits(limits: SessionLimits): SessionLimits {
  assertInteger(limits?.maxAgeMs, "limits.maxAgeMs", 1, Number.MAX_SAFE_INTEGER);
  assertInteger(limits?.maxUpdates, "limits.maxUpdates", 1, Number.MAX_SAFE_INTEGER);
  return limits;
}

/** Returns whether a session may protect one more update at `nowMs`. */
export function checkSessionUsable(
  usage: SessionUsage,
  limits: SessionLimits,
  nowMs: number,
): SessionCheck {
  assertSessionLimits(limits);
  assertInteger(usage?.establishedAtMs, "usage.establishedAtMs", 0, Number.MAX_SAFE_INTEGER);
  assertInteger(usage?.updatesUsed, "usage.updatesUsed", 0, Number.MAX_SAFE_INTEGER);
  assertInteger(nowMs, "nowMs", 0, Number.MAX_SAFE_INTEGER);
  if (nowMs < usage.establishedAtMs) return { usable: false, reason: "not_yet_valid" };
  if (nowMs - usage.establishedAtMs >= limits.maxAgeMs) return { usable: false, reason: "expired" };
  if (usage.updatesUsed >= limits.maxUpdates) return { usable: false, reason: "update_limit" };
  return { usable: true };
}
