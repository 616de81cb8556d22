/**
 * The update envelope: a client's model update, encrypted under its session and signed with its
 * ML-DSA-65 key. docs/protocol.md lists every byte.
 *
 *   header      canonical fields (client, federation, round, base model version, sample count,
 *               nonce, timestamp, payload length and SHA-256 digest, tensor manifest)
 *   session id  16 bytes, selects the session key
 *   ciphertext  AES-256-GCM of the payload with its 16-byte tag, header bytes as associated data
 *   signature   ML-DSA-65, context "qsfl-caad/update/v1", over
 *               header || session id || SHA-256(ciphertext || tag)
 *
 * The signature covers a SHA-256 digest of the ciphertext instead of the ciphertext itself because
 * ML-DSA hashes its message with SHAKE256 in JavaScript, which costs milliseconds per megabyte,
 * while node:crypto hashes the same bytes in native code. The digest keeps the signature binding:
 * an auditor without the session key can still check that the client sent exactly these bytes.
 *
 * parseUpdateEnvelope does no cryptography, so the server rejects malformed or oversized input
 * before spending a signature verification on it. The checks then run in the order of
 * verifyAndOpenUpdate: signature, decryption, digest, finite values, manifest.
 */

import type { TensorSpec, Weights } from "../tensors";
import { manifestOf } from "../tensors";
import {
  assertBytes,
  assertIdentifier,
  assertInteger,
  equalBytes,
  randomBytes,
  toHex,
  wipe,
} from "./bytes";
import { ByteReader, ByteWriter, CodecError } from "./codec";
import { EnvelopeError } from "./errors";
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
import {
  deriveUpdateKey,
  MAX_ID_BYTES,
  NONCE_BYTES,
  SESSION_ID_BYTES,
  SESSION_KEY_BYTES,
} from "./session";
import { DilithiumSigner, ML_DSA_65, UPDATE_CONTEXT } from "./signature";
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  sha256,
} from "./symmetric";

export const ENVELOPE_MAGIC = Uint8Array.of(0x51, 0x53, 0x46, 0x55); // "QSFU"
export const ENVELOPE_VERSION = 1;

/** Every update key encrypts exactly one payload, so the GCM IV is constant (see session.ts). */
const ZERO_IV = new Uint8Array(GCM_IV_BYTES);

export interface UpdateHeader {
  clientId: string;
  federationId: string;
  roundId: string;
  /** Version of the global model the update was trained from. */
  baseModelVersion: number;
  /** Training examples behind the update, the weight of FedAvg. */
  numSamples: number;
  nonce: Uint8Array;
  timestampMs: number;
  /** Plaintext payload length in bytes: 4 x the manifest's parameter count. */
  payloadLength: number;
  /** SHA-256 of the plaintext payload. */
  payloadDigest: Uint8Array;
  manifest: TensorSpec[];
}

export interface SealUpdateInput {
  clientId: string;
  federationId: string;
  roundId: string;
  baseModelVersion: number;
  numSamples: number;
  weights: Weights;
  sessionId: Uint8Array;
  sessionKey: Uint8Array;
  /** The client's ML-DSA-65 secret key. */
  signingSecretKey: Uint8Array;
  /** Defaults to 16 random bytes; must never repeat within a session. */
  nonce?: Uint8Array;
  /** Defaults to Date.now(). */
  timestampMs?: number;
}

/** A decoded envelope. Its byte fields are views into the input array, not copies. */
export interface ParsedUpdateEnvelope {
  version: number;
  header: UpdateHeader;
  headerBytes: Uint8Array;
  sessionId: Uint8Array;
  /** AES-256-GCM ciphertext followed by the 16-byte tag. */
  ciphertext: Uint8Array;
  signature: Uint8Array;
}

export interface ParseOptions {
  /** Largest whole envelope accepted, in bytes; the server's upload limit. */
  maxBytes: number;
}

/**
 * Encrypts, signs and encodes one update. It does not check the values: a NaN or infinite weight is
 * sealed as is, and the server rejects it with "non_finite".
 */
export function sealUpdate(input: SealUpdateInput): Uint8Array {
  const clientId = assertIdentifier(input.clientId, "clientId", MAX_ID_BYTES);
  const federationId = assertIdentifier(input.federationId, "federationId", MAX_ID_BYTES);
  const roundId = assertIdentifier(input.roundId, "roundId", MAX_ID_BYTES);
  const baseModelVersion = assertInteger(input.baseModelVersion, "baseModelVersion", 0, 0xffffffff);
  const numSamples = assertInteger(input.numSamples, "numSamples", 1, 0xffffffff);
  assertBytes(input.sessionId, "sessionId", SESSION_ID_BYTES);
  assertBytes(input.sessionKey, "sessionKey", SESSION_KEY_BYTES);
  assertBytes(input.signingSecretKey, "signingSecretKey", ML_DSA_65.secretKeyBytes);
  const nonce = input.nonce ?? randomBytes(NONCE_BYTES);
  assertBytes(nonce, "nonce", NONCE_BYTES);
  const timestampMs = assertInteger(
    input.timestampMs ?? Date.now(),
    "timestampMs",
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const manifest = manifestOf(input.weights);
  assertManifestShape(manifest, "weights");
  const payload = encodeWeightsPayload(input.weights);
  if (payload.length > 0xffffffff) {
    throw new RangeError(
      `weights: payload of ${payload.length} bytes exceeds the u32 length field`,
    );
  }

  const headerBytes = encodeHeader({
    clientId,
    federationId,
    roundId,
    baseModelVersion,
    numSamples,
    nonce,
    timestampMs,
    payloadLength: payload.length,
    payloadDigest: sha256(payload),
    manifest,
  });
  const updateKey = deriveUpdateKey(input.sessionKey, input.sessionId, nonce);
  const ciphertext = aes256GcmEncrypt(updateKey, ZERO_IV, payload, headerBytes);
  wipe(updateKey);
  const signature = DilithiumSigner.sign(
    signedMessage(headerBytes, input.sessionId, ciphertext),
    input.signingSecretKey,
    UPDATE_CONTEXT,
  );

  const out = new Uint8Array(
    headerBytes.length + SESSION_ID_BYTES + ciphertext.length + signature.length,
  );
  let offset = 0;
  for (const part of [headerBytes, input.sessionId, ciphertext, signature]) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Decodes an envelope without any cryptography. Throws EnvelopeError "malformed" on an oversized
 * or truncated input, trailing bytes, a wrong magic or version, a non-canonical field, or a
 * payload length that disagrees with the manifest.
 */
export function parseUpdateEnvelope(
  bytes: Uint8Array,
  options: ParseOptions,
): ParsedUpdateEnvelope {
  assertBytes(bytes, "bytes");
  const maxBytes = assertInteger(options?.maxBytes, "options.maxBytes", 1, Number.MAX_SAFE_INTEGER);
  if (bytes.length > maxBytes) {
    throw new EnvelopeError("malformed", `envelope of ${bytes.length} bytes exceeds ${maxBytes}`);
  }
  try {
    const reader = new ByteReader(bytes);
    const magic = reader.bytes(ENVELOPE_MAGIC.length, "magic");
    if (!equalBytes(magic, ENVELOPE_MAGIC)) {
      throw new CodecError(`magic: ${toHex(magic)}, expected ${toHex(ENVELOPE_MAGIC)} ("QSFU")`);
    }
    const version = reader.u8("version");
    if (version !== ENVELOPE_VERSION) {
      throw new CodecError(`version: ${version}, expected ${ENVELOPE_VERSION}`);
    }
    const clientId = reader.identifier("clientId", MAX_ID_BYTES);
    const federationId = reader.identifier("federationId", MAX_ID_BYTES);
    const roundId = reader.identifier("roundId", MAX_ID_BYTES);
    const baseModelVersion = reader.u32("baseModelVersion");
    const numSamples = reader.u32("numSamples");
    if (numSamples === 0) throw new CodecError("numSamples: 0, expected at least 1");
    const nonce = reader.bytes(NONCE_BYTES, "nonce");
    const timestampMs = reader.u64("timestampMs");
    const payloadLength = reader.u32("payloadLength");
    const fixedTail = SESSION_ID_BYTES + GCM_TAG_BYTES + ML_DSA_65.signatureBytes;
    if (payloadLength % 4 !== 0 || payloadLength + fixedTail > reader.remaining) {
      throw new CodecError(
        `payloadLength: ${payloadLength} is not a multiple of 4 or exceeds the ${reader.remaining} bytes left`,
      );
    }
    const payloadDigest = reader.bytes(32, "payloadDigest");
    const { manifest, parameterCount } = readManifest(reader, payloadLength / 4);
    if (parameterCount * 4 !== payloadLength) {
      throw new CodecError(
        `payloadLength: ${payloadLength} bytes, the manifest needs ${parameterCount * 4}`,
      );
    }
    const headerBytes = bytes.subarray(0, reader.offset);
    const sessionId = reader.bytes(SESSION_ID_BYTES, "sessionId");
    const ciphertext = reader.bytes(payloadLength + GCM_TAG_BYTES, "ciphertext");
    const signature = reader.bytes(ML_DSA_65.signatureBytes, "signature");
    reader.end("envelope");
    return {
      version,
      header: {
        clientId,
        federationId,
        roundId,
        baseModelVersion,
        numSamples,
        nonce,
        timestampMs,
        payloadLength,
        payloadDigest,
        manifest,
      },
      headerBytes,
      sessionId,
      ciphertext,
      signature,
    };
  } catch (error) {
    if (error instanceof CodecError) {
      throw new EnvelopeError("malformed", `update envelope: ${error.message}`);
    }
    throw error;
  }
}

/** Returns whether the envelope's ML-DSA-65 signature verifies under the client's public key. */
export function verifyUpdateSignature(
  parsed: ParsedUpdateEnvelope,
  clientPublicKey: Uint8Array,
): boolean {
  assertBytes(clientPublicKey, "clientPublicKey", ML_DSA_65.publicKeyBytes, "ML-DSA-65 public key");
  const message = signedMessage(parsed.headerBytes, parsed.sessionId, parsed.ciphertext);
  return DilithiumSigner.verify(message, parsed.signature, clientPublicKey, UPDATE_CONTEXT);
}

/**
 * Decrypts the payload and returns the weights (views into one Float32Array). Throws EnvelopeError
 * "decryption_failed" when the tag does not verify under the session key, "digest_mismatch" when the
 * plaintext's SHA-256 differs from the header, and "non_finite" on a NaN or infinite value.
 */
export function openUpdatePayload(parsed: ParsedUpdateEnvelope, sessionKey: Uint8Array): Weights {
  assertBytes(sessionKey, "sessionKey", SESSION_KEY_BYTES);
  const { header } = parsed;
  const updateKey = deriveUpdateKey(sessionKey, parsed.sessionId, header.nonce);
  const payload = aes256GcmDecrypt(updateKey, ZERO_IV, parsed.ciphertext, parsed.headerBytes);
  wipe(updateKey);

  if (payload === null) {
    throw new EnvelopeError(
      "decryption_failed",
      `update from "${header.clientId}" failed AES-GCM authentication under session ${toHex(parsed.sessionId)}`,
    );
  }
  if (payload.length !== header.payloadLength) {
    throw new EnvelopeError(
      "malformed",
      `update from "${header.clientId}": payload has ${payload.length} bytes, header says ${header.payloadLength}`,
    );
  }

  if (!equalBytes(sha256(payload), header.payloadDigest)) {
    throw new EnvelopeError(
      "digest_mismatch",
      `update from "${header.clientId}": payload SHA-256 differs from the header's ${toHex(header.payloadDigest)}`,
    );
  }

  const values = payloadValues(payload);
  const bad = findNonFinite(values);
  if (bad !== -1) {
    throw new EnvelopeError(
      "non_finite",
      `update from "${header.clientId}": value ${values[bad]} at flat index ${bad} (tensor "${tensorNameAt(header.manifest, bad)}")`,
    );
  }

  return splitIntoTensors(values, header.manifest);
}

/** Throws EnvelopeError "manifest_mismatch" unless `manifest` equals the federation's model layout. */
export function assertManifest(
  manifest: readonly TensorSpec[],
  expected: readonly TensorSpec[],
): void {
  const difference = describeManifestDifference(manifest, expected);
  if (difference !== null) {
    throw new EnvelopeError("manifest_mismatch", `update manifest: ${difference}`);
  }
}

export interface UpdateKeys {
  clientPublicKey: Uint8Array;
  sessionKey: Uint8Array;
  /** The federation's model layout; checked first when given, since it needs no cryptography. */
  expectedManifest?: readonly TensorSpec[];
}

/**
 * Runs the server's whole cryptographic check of a parsed envelope and returns the weights:
 * manifest ("manifest_mismatch"), signature ("bad_signature"), then openUpdatePayload.
 */
export function verifyAndOpenUpdate(parsed: ParsedUpdateEnvelope, keys: UpdateKeys): Weights {
  if (keys.expectedManifest !== undefined) {
    assertManifest(parsed.header.manifest, keys.expectedManifest);
  }
  if (!verifyUpdateSignature(parsed, keys.clientPublicKey)) {
    throw new EnvelopeError(
      "bad_signature",
      `update signature does not verify under the key of "${parsed.header.clientId}"`,
    );
  }
  return openUpdatePayload(parsed, keys.sessionKey);
}

function encodeHeader(header: UpdateHeader): Uint8Array {
  const writer = new ByteWriter()
    .bytes(ENVELOPE_MAGIC)
    .u8(ENVELOPE_VERSION)
    .string(header.clientId)
    .string(header.federationId)
    .string(header.roundId)
    .u32(header.baseModelVersion)
    .u32(header.numSamples)
    .bytes(header.nonce)
    .u64(header.timestampMs)
    .u32(header.payloadLength)
    .bytes(header.payloadDigest);
  writeManifest(writer, header.manifest);
  return writer.finish();
}

/**
 * header || session id || SHA-256(ciphertext || tag): the bytes under the update signature.
 * NOTE: the ciphertext hash puts the whole check of a 100k-parameter update at about 1.5 to 1.56
 * bare verifies on the development machine (docs/benchmarks/crypto.json), at or over the 1.5 target.
 */
function signedMessage(
  headerBytes: Uint8Array,
  sessionId: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const digest = sha256(ciphertext);
  const message = new Uint8Array(headerBytes.length + sessionId.length + digest.length);
  message.set(headerBytes, 0);
  message.set(sessionId, headerBytes.length);
  message.set(digest, headerBytes.length + sessionId.length);
  return message;
}
