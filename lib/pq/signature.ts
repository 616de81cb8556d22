/**
 * Signatures: ML-DSA-65 (FIPS 204) from @noble/post-quantum 0.7.1, pure mode with a context string.
 *
 * `DilithiumSigner` keeps the earlier system's name; it is ML-DSA-65 as standardized in FIPS 204,
 * not the round-3 Dilithium submission.
 *
 * Every message type is signed under its own FIPS 204 context string, so a signature over an
 * update can never be replayed as a signature over a credential or a handshake even when the
 * message bytes happen to coincide. Signing is hedged by default, with fresh FIPS 204 randomness
 * `rnd`. The deterministic variant exists for known-answer tests, and it is weaker only against
 * fault and side-channel attacks.
 *
 * ML-DSA hashes its whole message with SHAKE256 in JavaScript, so callers that sign megabytes
 * (the update envelope) sign a SHA-256 digest of the bulky part instead of the raw bytes.
 */

import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";
import { assertBytes, utf8Encode } from "./bytes";

export const ML_DSA_65 = Object.freeze({
  publicKeyBytes: 1952,
  secretKeyBytes: 4032,
  signatureBytes: 3309,
  seedBytes: 32,
});

export const UPDATE_CONTEXT = "qsfl-caad/update/v1";
export const MODEL_CONTEXT = "qsfl-caad/model/v1";
export const ENROLL_CONTEXT = "qsfl-caad/enroll/v1";
export const CREDENTIAL_CONTEXT = "qsfl-caad/credential/v1";
export const ROTATE_CONTEXT = "qsfl-caad/rotate/v1";
export const RECEIPT_CONTEXT = "qsfl-caad/receipt/v1";
export const HANDSHAKE_CONTEXT = "qsfl-caad/handshake/v1";
export const AUTH_CONTEXT = "qsfl-caad/auth/v1";

/** The FIPS 204 context string of each signed message type. */
export const SIGNATURE_CONTEXTS = Object.freeze({
  update: UPDATE_CONTEXT,
  model: MODEL_CONTEXT,
  enroll: ENROLL_CONTEXT,
  credential: CREDENTIAL_CONTEXT,
  rotate: ROTATE_CONTEXT,
  receipt: RECEIPT_CONTEXT,
  handshake: HANDSHAKE_CONTEXT,
  auth: AUTH_CONTEXT,
});

export type SignatureContext = (typeof SIGNATURE_CONTEXTS)[keyof typeof SIGNATURE_CONTEXTS];

const KNOWN_CONTEXTS = new Set<string>(Object.values(SIGNATURE_CONTEXTS));

/** FIPS 204 limits the context string to 255 bytes. */
const MAX_CONTEXT_BYTES = 255;

export interface SigningKeypair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface SignOptions {
  /** Signs with rnd = 0^32 (FIPS 204 deterministic variant); for known-answer tests. */
  deterministic?: boolean;
}

/** ML-DSA-65 (FIPS 204) under the earlier system's name. */
export const DilithiumSigner = Object.freeze({
  sizes: ML_DSA_65,

  /** Generates a keypair; `seed` (the 32-byte xi of FIPS 204 KeyGen) is for known-answer tests. */
  generateKeypair(seed?: Uint8Array): SigningKeypair {
    if (seed !== undefined) assertBytes(seed, "seed", ML_DSA_65.seedBytes, "ML-DSA seed xi");
    const { publicKey, secretKey } = ml_dsa65.keygen(seed);
    return { publicKey, secretKey };
  },

  /** Derives the public key from a secret key. */
  getPublicKey(secretKey: Uint8Array): Uint8Array {
    assertBytes(secretKey, "secretKey", ML_DSA_65.secretKeyBytes, "ML-DSA-65 secret key");
    return ml_dsa65.getPublicKey(secretKey);
  },

  /**
   * Signs `message` under `context`, one of SIGNATURE_CONTEXTS. Raw context bytes are accepted for
   * interoperability vectors, which use other (or empty) contexts.
   */
  sign(
    message: Uint8Array,
    secretKey: Uint8Array,
    context: SignatureContext | Uint8Array,
    options: SignOptions = {},
  ): Uint8Array {
    assertBytes(message, "message");
    assertBytes(secretKey, "secretKey", ML_DSA_65.secretKeyBytes, "ML-DSA-65 secret key");
    const contextBytes = encodeContext(context);
    const extraEntropy = options.deterministic === true ? false : undefined;
    return ml_dsa65.sign(message, secretKey, { context: contextBytes, extraEntropy });
  },

  /**
   * Returns whether `signature` is a valid signature of `message` under `context`. A signature of
   * the wrong length or with an invalid encoding returns false, because signature bytes come from
   * the peer. It throws only for a malformed message type, public key or context, which are the
   * caller's own values.
   */
  verify(
    message: Uint8Array,
    signature: Uint8Array,
    publicKey: Uint8Array,
    context: SignatureContext | Uint8Array,
  ): boolean {
    assertBytes(message, "message");
    assertBytes(signature, "signature");
    assertBytes(publicKey, "publicKey", ML_DSA_65.publicKeyBytes, "ML-DSA-65 public key");
    const contextBytes = encodeContext(context);
    if (signature.length !== ML_DSA_65.signatureBytes) return false;
    try {
      return ml_dsa65.verify(signature, message, publicKey, { context: contextBytes });
    } catch {
      return false;
    }
  },
});

function encodeContext(context: SignatureContext | Uint8Array): Uint8Array {
  if (context instanceof Uint8Array) {
    if (context.length > MAX_CONTEXT_BYTES) {
      throw new RangeError(
        `context: expected at most ${MAX_CONTEXT_BYTES} bytes (FIPS 204), got ${context.length}`,
      );
    }
    return context;
  }
  if (typeof context !== "string" || !KNOWN_CONTEXTS.has(context)) {
    throw new RangeError(
      `context: expected one of ${[...KNOWN_CONTEXTS].join(", ")}, got ${JSON.stringify(context)}`,
    );
  }
  return utf8Encode(context);
}
