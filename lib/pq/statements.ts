/**
 * Signed statements besides the update: the global model, the enrollment proof of possession, the
 * client credential, key rotation and the server's receipt for an accepted update.
 *
 * Each statement has a canonical binary encoding (4-byte magic, version byte, then its fields in
 * the codec.ts format) and is signed with ML-DSA-65 under its own context string. Signatures travel
 * and are stored next to the statement, not inside it, which matches how the database keeps them.
 * Optional KEM public keys are encoded as a presence byte (0 or 1) followed by the key.
 */

import type { TensorSpec, Weights } from "../tensors";
import { manifestOf, parameterCount } from "../tensors";
import { assertBytes, assertIdentifier, assertInteger, equalBytes, toHex } from "./bytes";
import { ByteReader, ByteWriter, CodecError } from "./codec";
import { ProtocolError } from "./errors";
import { X_WING } from "./kem";
import {
  assertManifestShape,
  describeManifestDifference,
  encodeWeightsPayload,
  findNonFinite,
  payloadValues,
  readManifest,
  splitIntoTensors,
  tensorNameAt,
  writeManifest,
} from "./payload";
import { MAX_ID_BYTES } from "./session";
import {
  CREDENTIAL_CONTEXT,
  DilithiumSigner,
  ENROLL_CONTEXT,
  ML_DSA_65,
  MODEL_CONTEXT,
  RECEIPT_CONTEXT,
  ROTATE_CONTEXT,
} from "./signature";
import { sha256 } from "./symmetric";

const VERSION = 1;
const MODEL_MAGIC = Uint8Array.of(0x51, 0x53, 0x47, 0x4d); // "QSGM"
const ENROLL_MAGIC = Uint8Array.of(0x51, 0x53, 0x45, 0x4e); // "QSEN"
const CREDENTIAL_MAGIC = Uint8Array.of(0x51, 0x53, 0x43, 0x52); // "QSCR"
const ROTATE_MAGIC = Uint8Array.of(0x51, 0x53, 0x52, 0x54); // "QSRT"
const RECEIPT_MAGIC = Uint8Array.of(0x51, 0x53, 0x52, 0x43); // "QSRC"

/** Largest global model a statement may describe: 2^30 float32 values (4 GiB of payload). */
const MAX_MODEL_PARAMETERS = 2 ** 30;

// ---------------------------------------------------------------------------------------------
// Global model

/** Statement the server signs about a published global model. */
export interface ModelStatement {
  federationId: string;
  version: number;
  manifest: TensorSpec[];
  /** SHA-256 of the weights payload (little-endian float32 in manifest order). */
  weightsDigest: Uint8Array;
}

/** A global model as published: the statement, the weights payload and the server's signature. */
export interface SignedModel {
  statement: ModelStatement;
  payload: Uint8Array;
  signature: Uint8Array;
}

export function encodeModelStatement(statement: ModelStatement): Uint8Array {
  const federationId = assertIdentifier(statement.federationId, "federationId", MAX_ID_BYTES);
  const version = assertInteger(statement.version, "version", 0, 0xffffffff);
  assertManifestShape(statement.manifest);
  assertBytes(statement.weightsDigest, "weightsDigest", 32, "SHA-256");
  const writer = begin(MODEL_MAGIC)
    .string(federationId)
    .u32(version)
    .bytes(statement.weightsDigest);
  writeManifest(writer, statement.manifest);
  return writer.finish();
}

export function decodeModelStatement(bytes: Uint8Array): ModelStatement {
  return decode(bytes, "model statement", MODEL_MAGIC, (reader) => readModelStatement(reader));
}

/** Builds and signs the statement for a global model; the payload is what clients download. */
export function signModel(
  model: { federationId: string; version: number; weights: Weights },
  serverSecretKey: Uint8Array,
): SignedModel {
  const payload = encodeWeightsPayload(model.weights);
  const statement: ModelStatement = {
    federationId: model.federationId,
    version: model.version,
    manifest: manifestOf(model.weights),
    weightsDigest: sha256(payload),
  };
  const signature = DilithiumSigner.sign(
    encodeModelStatement(statement),
    serverSecretKey,
    MODEL_CONTEXT,
  );
  return { statement, payload, signature };
}

/**
 * Checks a downloaded global model and returns its weights. Throws ProtocolError with code
 * - "bad_signature" when the server's signature does not verify,
 * - "digest_mismatch" when the payload's SHA-256 is not the signed one,
 * - "manifest_mismatch" when the manifest differs from `expectedManifest`,
 * - "malformed" when the payload length disagrees with the manifest,
 * - "non_finite" on a NaN or infinite weight.
 */
export function verifySignedModel(
  model: SignedModel,
  serverPublicKey: Uint8Array,
  expectedManifest?: readonly TensorSpec[],
): Weights {
  assertBytes(model.payload, "payload");
  const statementBytes = encodeModelStatement(model.statement);
  if (!DilithiumSigner.verify(statementBytes, model.signature, serverPublicKey, MODEL_CONTEXT)) {
    throw new ProtocolError(
      "bad_signature",
      `model ${model.statement.federationId} v${model.statement.version}: server signature does not verify`,
    );
  }

  if (!equalBytes(sha256(model.payload), model.statement.weightsDigest)) {
    throw new ProtocolError(
      "digest_mismatch",
      `model ${model.statement.federationId} v${model.statement.version}: weights SHA-256 differs from the signed ${toHex(model.statement.weightsDigest)}`,
    );
  }

  const { manifest } = model.statement;
  if (expectedManifest !== undefined) {
    const difference = describeManifestDifference(manifest, expectedManifest);
    if (difference !== null) {
      throw new ProtocolError("manifest_mismatch", `model manifest: ${difference}`);
    }
  }
  const expectedBytes = parameterCount(manifest) * 4;
  if (model.payload.length !== expectedBytes) {
    throw new ProtocolError(
      "malformed",
      `model payload has ${model.payload.length} bytes, the manifest needs ${expectedBytes}`,
    );
  }

  const values = payloadValues(model.payload);
  const bad = findNonFinite(values);
  if (bad !== -1) {
    throw new ProtocolError(
      "non_finite",
      `model weight ${values[bad]} at flat index ${bad} (tensor "${tensorNameAt(manifest, bad)}")`,
    );
  }

  return splitIntoTensors(values, manifest);
}

/** Encodes a signed model for download: statement || payload || signature. */
export function encodeSignedModel(model: SignedModel): Uint8Array {
  assertBytes(model.payload, "payload");
  assertBytes(model.signature, "signature", ML_DSA_65.signatureBytes, "ML-DSA-65 signature");
  return new ByteWriter()
    .bytes(encodeModelStatement(model.statement))
    .bytes(model.payload)
    .bytes(model.signature)
    .finish();
}

/** Decodes encodeSignedModel's output without verifying it; throws ProtocolError "malformed". */
export function decodeSignedModel(bytes: Uint8Array): SignedModel {
  return decode(bytes, "signed model", MODEL_MAGIC, (reader) => {
    const statement = readModelStatement(reader);
    const payload = reader.bytes(parameterCount(statement.manifest) * 4, "payload");
    const signature = reader.bytes(ML_DSA_65.signatureBytes, "signature");
    return { statement, payload, signature };
  });
}

function readModelStatement(reader: ByteReader): ModelStatement {
  const federationId = reader.identifier("federationId", MAX_ID_BYTES);
  const version = reader.u32("version");
  const weightsDigest = reader.bytes(32, "weightsDigest");
  const { manifest } = readManifest(reader, MAX_MODEL_PARAMETERS);
  return { federationId, version, manifest, weightsDigest };
}

// ---------------------------------------------------------------------------------------------
// Enrollment proof of possession

/** Statement signed by an enrolling client's new ML-DSA-65 key, proving possession of its secret key. */
export interface EnrollmentProof {
  tokenId: string;
  clientId: string;
  signingPublicKey: Uint8Array;
  /** The client's X-Wing public key, or null when the client has none. */
  kemPublicKey: Uint8Array | null;
}

export function encodeEnrollmentProof(proof: EnrollmentProof): Uint8Array {
  const writer = begin(ENROLL_MAGIC)
    .string(assertIdentifier(proof.tokenId, "tokenId", MAX_ID_BYTES))
    .string(assertIdentifier(proof.clientId, "clientId", MAX_ID_BYTES));
  writeKeys(writer, proof.signingPublicKey, proof.kemPublicKey, "");
  return writer.finish();
}

export function decodeEnrollmentProof(bytes: Uint8Array): EnrollmentProof {
  return decode(bytes, "enrollment proof", ENROLL_MAGIC, (reader) => {
    const tokenId = reader.identifier("tokenId", MAX_ID_BYTES);
    const clientId = reader.identifier("clientId", MAX_ID_BYTES);
    const { signingPublicKey, kemPublicKey } = readKeys(reader);
    return { tokenId, clientId, signingPublicKey, kemPublicKey };
  });
}

export function signEnrollmentProof(
  proof: EnrollmentProof,
  signingSecretKey: Uint8Array,
): Uint8Array {
  return DilithiumSigner.sign(encodeEnrollmentProof(proof), signingSecretKey, ENROLL_CONTEXT);
}

/** Returns whether the proof is signed by the secret key of its own signingPublicKey. */
export function verifyEnrollmentProof(proof: EnrollmentProof, signature: Uint8Array): boolean {
  return DilithiumSigner.verify(
    encodeEnrollmentProof(proof),
    signature,
    proof.signingPublicKey,
    ENROLL_CONTEXT,
  );
}

// ---------------------------------------------------------------------------------------------
// Client credential

/** The server's signed binding of a client id to its public keys, valid in [issuedAtMs, expiresAtMs). */
export interface ClientCredential {
  serial: bigint;
  clientId: string;
  signingPublicKey: Uint8Array;
  kemPublicKey: Uint8Array | null;
  issuedAtMs: number;
  expiresAtMs: number;
}

export function encodeCredential(credential: ClientCredential): Uint8Array {
  if (
    typeof credential.serial !== "bigint" ||
    credential.serial < 0n ||
    credential.serial >= 2n ** 64n
  ) {
    throw new RangeError(
      `serial: expected a bigint in [0, 2^64 - 1], got ${String(credential.serial)}`,
    );
  }
  const issuedAtMs = assertInteger(credential.issuedAtMs, "issuedAtMs", 0, Number.MAX_SAFE_INTEGER);
  const expiresAtMs = assertInteger(
    credential.expiresAtMs,
    "expiresAtMs",
    0,
    Number.MAX_SAFE_INTEGER,
  );
  if (expiresAtMs <= issuedAtMs) {
    throw new RangeError(`expiresAtMs: ${expiresAtMs} must be after issuedAtMs ${issuedAtMs}`);
  }
  const writer = begin(CREDENTIAL_MAGIC)
    .u64(credential.serial)
    .string(assertIdentifier(credential.clientId, "clientId", MAX_ID_BYTES));
  writeKeys(writer, credential.signingPublicKey, credential.kemPublicKey, "");
  return writer.u64(issuedAtMs).u64(expiresAtMs).finish();
}

export function decodeCredential(bytes: Uint8Array): ClientCredential {
  return decode(bytes, "credential", CREDENTIAL_MAGIC, (reader) => {
    const serial = reader.u64BigInt("serial");
    const clientId = reader.identifier("clientId", MAX_ID_BYTES);
    const { signingPublicKey, kemPublicKey } = readKeys(reader);
    const issuedAtMs = reader.u64("issuedAtMs");
    const expiresAtMs = reader.u64("expiresAtMs");
    if (expiresAtMs <= issuedAtMs) throw new CodecError("expiresAtMs: not after issuedAtMs");
    return { serial, clientId, signingPublicKey, kemPublicKey, issuedAtMs, expiresAtMs };
  });
}

export function signCredential(
  credential: ClientCredential,
  serverSecretKey: Uint8Array,
): Uint8Array {
  return DilithiumSigner.sign(encodeCredential(credential), serverSecretKey, CREDENTIAL_CONTEXT);
}

/** Returns whether the server signed this credential; expiry and revocation are the caller's. */
export function verifyCredential(
  credential: ClientCredential,
  signature: Uint8Array,
  serverPublicKey: Uint8Array,
): boolean {
  return DilithiumSigner.verify(
    encodeCredential(credential),
    signature,
    serverPublicKey,
    CREDENTIAL_CONTEXT,
  );
}

// ---------------------------------------------------------------------------------------------
// Key rotation

/** A client's request to replace its keys, signed with the key being replaced. */
export interface KeyRotation {
  clientId: string;
  /** SHA-256 of the ML-DSA-65 public key being replaced. */
  oldKeyFingerprint: Uint8Array;
  newSigningPublicKey: Uint8Array;
  newKemPublicKey: Uint8Array | null;
  timestampMs: number;
}

export function encodeKeyRotation(rotation: KeyRotation): Uint8Array {
  assertBytes(rotation.oldKeyFingerprint, "oldKeyFingerprint", 32, "SHA-256");
  const writer = begin(ROTATE_MAGIC)
    .string(assertIdentifier(rotation.clientId, "clientId", MAX_ID_BYTES))
    .bytes(rotation.oldKeyFingerprint);
  writeKeys(writer, rotation.newSigningPublicKey, rotation.newKemPublicKey, "new");
  return writer
    .u64(assertInteger(rotation.timestampMs, "timestampMs", 0, Number.MAX_SAFE_INTEGER))
    .finish();
}

export function decodeKeyRotation(bytes: Uint8Array): KeyRotation {
  return decode(bytes, "key rotation", ROTATE_MAGIC, (reader) => {
    const clientId = reader.identifier("clientId", MAX_ID_BYTES);
    const oldKeyFingerprint = reader.bytes(32, "oldKeyFingerprint");
    const keys = readKeys(reader);
    const timestampMs = reader.u64("timestampMs");
    return {
      clientId,
      oldKeyFingerprint,
      newSigningPublicKey: keys.signingPublicKey,
      newKemPublicKey: keys.kemPublicKey,
      timestampMs,
    };
  });
}

export function signKeyRotation(
  rotation: KeyRotation,
  oldSigningSecretKey: Uint8Array,
): Uint8Array {
  return DilithiumSigner.sign(encodeKeyRotation(rotation), oldSigningSecretKey, ROTATE_CONTEXT);
}

/**
 * Returns whether the rotation names `oldPublicKey` by fingerprint and is signed by it. Freshness
 * of timestampMs and replay of an old rotation are the caller's to check.
 */
export function verifyKeyRotation(
  rotation: KeyRotation,
  signature: Uint8Array,
  oldPublicKey: Uint8Array,
): boolean {
  assertBytes(oldPublicKey, "oldPublicKey", ML_DSA_65.publicKeyBytes, "ML-DSA-65 public key");
  if (!equalBytes(rotation.oldKeyFingerprint, sha256(oldPublicKey))) return false;
  return DilithiumSigner.verify(
    encodeKeyRotation(rotation),
    signature,
    oldPublicKey,
    ROTATE_CONTEXT,
  );
}

// ---------------------------------------------------------------------------------------------
// Update receipt

/** The server's signed acknowledgement that it accepted an update. */
export interface UpdateReceipt {
  updateId: string;
  clientId: string;
  roundId: string;
  /** SHA-256 of the update's plaintext payload, as in its envelope header. */
  payloadDigest: Uint8Array;
  receivedAtMs: number;
}

export function encodeReceipt(receipt: UpdateReceipt): Uint8Array {
  assertBytes(receipt.payloadDigest, "payloadDigest", 32, "SHA-256");
  return begin(RECEIPT_MAGIC)
    .string(assertIdentifier(receipt.updateId, "updateId", MAX_ID_BYTES))
    .string(assertIdentifier(receipt.clientId, "clientId", MAX_ID_BYTES))
    .string(assertIdentifier(receipt.roundId, "roundId", MAX_ID_BYTES))
    .bytes(receipt.payloadDigest)
    .u64(assertInteger(receipt.receivedAtMs, "receivedAtMs", 0, Number.MAX_SAFE_INTEGER))
    .finish();
}

export function decodeReceipt(bytes: Uint8Array): UpdateReceipt {
  return decode(bytes, "receipt", RECEIPT_MAGIC, (reader) => ({
    updateId: reader.identifier("updateId", MAX_ID_BYTES),
    clientId: reader.identifier("clientId", MAX_ID_BYTES),
    roundId: reader.identifier("roundId", MAX_ID_BYTES),
    payloadDigest: reader.bytes(32, "payloadDigest"),
    receivedAtMs: reader.u64("receivedAtMs"),
  }));
}

export function signReceipt(receipt: UpdateReceipt, serverSecretKey: Uint8Array): Uint8Array {
  return DilithiumSigner.sign(encodeReceipt(receipt), serverSecretKey, RECEIPT_CONTEXT);
}

export function verifyReceipt(
  receipt: UpdateReceipt,
  signature: Uint8Array,
  serverPublicKey: Uint8Array,
): boolean {
  return DilithiumSigner.verify(
    encodeReceipt(receipt),
    signature,
    serverPublicKey,
    RECEIPT_CONTEXT,
  );
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function begin(magic: Uint8Array): ByteWriter {
  return new ByteWriter().bytes(magic).u8(VERSION);
}

function decode<T>(
  bytes: Uint8Array,
  structure: string,
  magic: Uint8Array,
  read: (reader: ByteReader) => T,
): T {
  assertBytes(bytes, "bytes");
  try {
    const reader = new ByteReader(bytes);
    const found = reader.bytes(magic.length, "magic");
    if (!equalBytes(found, magic))
      throw new CodecError(`magic: ${toHex(found)}, expected ${toHex(magic)}`);
    const version = reader.u8("version");
    if (version !== VERSION) throw new CodecError(`version: ${version}, expected ${VERSION}`);
    const value = read(reader);
    reader.end(structure);
    return value;
  } catch (error) {
    if (error instanceof CodecError)
      throw new ProtocolError("malformed", `${structure}: ${error.message}`);
    throw error;
  }
}

function writeKeys(
  writer: ByteWriter,
  signingPublicKey: Uint8Array,
  kemPublicKey: Uint8Array | null,
  prefix: string,
): void {
  const signingName = prefix === "" ? "signingPublicKey" : `${prefix}SigningPublicKey`;
  const kemName = prefix === "" ? "kemPublicKey" : `${prefix}KemPublicKey`;
  assertBytes(signingPublicKey, signingName, ML_DSA_65.publicKeyBytes, "ML-DSA-65 public key");
  writer.bytes(signingPublicKey);
  if (kemPublicKey === null) {
    writer.u8(0);
    return;
  }
  assertBytes(kemPublicKey, kemName, X_WING.publicKeyBytes, "X-Wing public key");
  writer.u8(1).bytes(kemPublicKey);
}

function readKeys(reader: ByteReader): {
  signingPublicKey: Uint8Array;
  kemPublicKey: Uint8Array | null;
} {
  const signingPublicKey = reader.bytes(ML_DSA_65.publicKeyBytes, "signingPublicKey");
  const present = reader.u8("kemPublicKey presence");
  if (present > 1) throw new CodecError(`kemPublicKey presence: ${present}, expected 0 or 1`);
  const kemPublicKey = present === 1 ? reader.bytes(X_WING.publicKeyBytes, "kemPublicKey") : null;
  return { signingPublicKey, kemPublicKey };
}
