/**
 * Post-quantum primitives and wire formats of QSFL-CAAD: ML-KEM-768 and X-Wing (FIPS 203 and
 * draft-connolly-cfrg-xwing-kem), ML-DSA-65 (FIPS 204), the session handshake, the update
 * envelope and the signed statements. docs/protocol.md describes the formats byte by byte.
 */

export {
  assertBytes,
  concatBytes,
  equalBytes,
  fromHex,
  randomBytes,
  toHex,
  wipe,
} from "./bytes";
export {
  assertManifest,
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  openUpdatePayload,
  type ParsedUpdateEnvelope,
  type ParseOptions,
  parseUpdateEnvelope,
  type SealUpdateInput,
  sealUpdate,
  type UpdateHeader,
  type UpdateKeys,
  verifyAndOpenUpdate,
  verifyUpdateSignature,
} from "./envelope";
export {
  EnvelopeError,
  type EnvelopeErrorCode,
  ProtocolError,
  type ProtocolErrorCode,
} from "./errors";
export {
  type Encapsulation,
  type KemKeypair,
  KyberKeyExchange,
  ML_KEM_768,
  X_WING,
  XWingKem,
} from "./kem";
export { encodeWeightsPayload } from "./payload";
export {
  acceptHandshake,
  assertSessionLimits,
  checkSessionUsable,
  createHandshake,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  DEFAULT_SESSION_LIMITS,
  deriveUpdateKey,
  type HandshakeAcceptance,
  type HandshakeInit,
  NONCE_BYTES,
  type ParsedHandshake,
  parseHandshake,
  SESSION_ID_BYTES,
  SESSION_KEY_BYTES,
  type SessionCheck,
  type SessionKeys,
  type SessionLimits,
  type SessionUsage,
} from "./session";
export {
  AUTH_CONTEXT,
  CREDENTIAL_CONTEXT,
  DilithiumSigner,
  ENROLL_CONTEXT,
  HANDSHAKE_CONTEXT,
  ML_DSA_65,
  MODEL_CONTEXT,
  RECEIPT_CONTEXT,
  ROTATE_CONTEXT,
  SIGNATURE_CONTEXTS,
  type SignatureContext,
  type SigningKeypair,
  type SignOptions,
  UPDATE_CONTEXT,
} from "./signature";
export * from "./statements";
export {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  hkdfSha256,
  openSecret,
  publicKeyFingerprint,
  sealSecret,
  sha256,
} from "./symmetric";
