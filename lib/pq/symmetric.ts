/**
 * Symmetric primitives from node:crypto (OpenSSL): SHA-256, HKDF-SHA-256 (RFC 5869) and
 * AES-256-GCM (NIST SP 800-38D), plus sealing of server secret keys at rest.
 *
 * These run in native code, so the megabyte-sized parts of an update (the ciphertext and the
 * payload digest) never go through a JavaScript hash. AES-GCM here always uses a 16-byte tag, and
 * decryption returns plaintext only after the tag verified.
 */

import { createCipheriv, createDecipheriv, createHash, hkdfSync } from "node:crypto";
import { assertBytes, assertInteger, randomBytes, toHex, utf8Encode } from "./bytes";

export const SHA256_BYTES = 32;
export const AES_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export function sha256(data: Uint8Array): Uint8Array {
  assertBytes(data, "data");
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/** SHA-256 of the public key bytes, lowercase hex: the key's identity in logs and the database. */
export function publicKeyFingerprint(publicKey: Uint8Array): string {
  assertBytes(publicKey, "publicKey");
  if (publicKey.length === 0)
    throw new RangeError("publicKey: expected a non-empty key, got 0 bytes");
  return toHex(sha256(publicKey));
}

/** HKDF-SHA-256 extract-and-expand (RFC 5869) to `length` bytes. */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  assertBytes(ikm, "ikm");
  assertBytes(salt, "salt");
  assertBytes(info, "info");
  if (info.length > 1024)
    throw new RangeError(`info: expected at most 1024 bytes, got ${info.length}`);
  assertInteger(length, "length", 1, 255 * SHA256_BYTES);
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
}

/** Encrypts with AES-256-GCM and returns ciphertext || 16-byte tag. */
export function aes256GcmEncrypt(
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): Uint8Array {
  assertBytes(key, "key", AES_KEY_BYTES, "AES-256 key");
  assertBytes(iv, "iv", GCM_IV_BYTES, "GCM IV");
  assertBytes(plaintext, "plaintext");
  assertBytes(associatedData, "associatedData");
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(associatedData);
  const out = new Uint8Array(plaintext.length + GCM_TAG_BYTES);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  out.set(body, 0);
  out.set(tail, body.length);
  out.set(cipher.getAuthTag(), plaintext.length);
  return out;
}

/**
 * Decrypts ciphertext || tag from aes256GcmEncrypt. Returns null when the tag does not verify
 * (wrong key, wrong associated data or modified bytes), so callers map it to their own error code.
 */
export function aes256GcmDecrypt(
  key: Uint8Array,
  iv: Uint8Array,
  sealed: Uint8Array,
  associatedData: Uint8Array,
): Uint8Array | null {
  assertBytes(key, "key", AES_KEY_BYTES, "AES-256 key");
  assertBytes(iv, "iv", GCM_IV_BYTES, "GCM IV");
  assertBytes(sealed, "sealed");
  assertBytes(associatedData, "associatedData");
  if (sealed.length < GCM_TAG_BYTES) {
    throw new RangeError(`sealed: expected at least ${GCM_TAG_BYTES} bytes, got ${sealed.length}`);
  }
  const bodyLength = sealed.length - GCM_TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.subarray(bodyLength));
  const plaintext = decipher.update(sealed.subarray(0, bodyLength));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return null;
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}

const SEALED_SECRET_VERSION = 1;

/**
 * Encrypts a server secret key for storage: version byte 0x01 || random 12-byte IV || ciphertext
 * || tag. The label (for example "server-mldsa65") is authenticated, so a sealed ML-DSA key cannot
 * be opened as the X-Wing key. A random IV is safe here because one master key seals few values.
 */
export function sealSecret(
  masterKey: Uint8Array,
  plaintext: Uint8Array,
  label: string,
): Uint8Array {
  assertBytes(masterKey, "masterKey", AES_KEY_BYTES, "AES-256 master key");
  assertBytes(plaintext, "plaintext");
  const aad = secretLabel(label);
  const iv = randomBytes(GCM_IV_BYTES);
  const body = aes256GcmEncrypt(masterKey, iv, plaintext, aad);
  const out = new Uint8Array(1 + GCM_IV_BYTES + body.length);
  out[0] = SEALED_SECRET_VERSION;
  out.set(iv, 1);
  out.set(body, 1 + GCM_IV_BYTES);
  return out;
}

/** Opens a value from sealSecret; throws when the master key, label or bytes do not match. */
export function openSecret(masterKey: Uint8Array, sealed: Uint8Array, label: string): Uint8Array {
  assertBytes(masterKey, "masterKey", AES_KEY_BYTES, "AES-256 master key");
  assertBytes(sealed, "sealed");
  const aad = secretLabel(label);
  const minimum = 1 + GCM_IV_BYTES + GCM_TAG_BYTES;
  if (sealed.length < minimum) {
    throw new RangeError(`sealed: expected at least ${minimum} bytes, got ${sealed.length}`);
  }
  if (sealed[0] !== SEALED_SECRET_VERSION) {
    throw new RangeError(
      `sealed: unknown format version ${sealed[0]}, expected ${SEALED_SECRET_VERSION}`,
    );
  }
  const iv = sealed.subarray(1, 1 + GCM_IV_BYTES);
  const plaintext = aes256GcmDecrypt(masterKey, iv, sealed.subarray(1 + GCM_IV_BYTES), aad);
  if (plaintext === null) {
    throw new Error(
      `sealed secret "${label}" failed authentication: wrong master key, label or data`,
    );
  }
  return plaintext;
}

function secretLabel(label: string): Uint8Array {
  if (typeof label !== "string" || label.length === 0) {
    throw new TypeError(`label: expected a non-empty string, got ${JSON.stringify(label)}`);
  }
  // The version byte is bound too, so a future format cannot be downgraded to this one.
  return utf8Encode(`qsfl-caad/sealed-secret/v${SEALED_SECRET_VERSION}|${label}`);
}
