/**
 * Byte helpers shared by the post-quantum wrappers: argument checks, hex, constant-time compare.
 *
 * Every public function in lib/pq validates its inputs with these helpers before touching a
 * primitive. A wrong key or a truncated ciphertext then fails with an error that names the argument,
 * the length found and the length expected, not deep inside a primitive.
 */

import { randomBytes as nodeRandomBytes, timingSafeEqual } from "node:crypto";

/** Throws unless `value` is a Uint8Array, and, when `length` is given, of exactly that length. */
export function assertBytes(
  value: unknown,
  name: string,
  length?: number,
  description?: string,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    const found = value === null ? "null" : typeof value;
    throw new TypeError(`${name}: expected a Uint8Array, got ${found}`);
  }
  if (length !== undefined && value.length !== length) {
    const label = description === undefined ? "" : ` (${description})`;
    throw new RangeError(`${name}: expected ${length} bytes${label}, got ${value.length}`);
  }
}

/** Throws unless `value` is a non-negative safe integer no larger than `max`. */
export function assertInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: expected an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

/** Throws unless `value` is a string whose UTF-8 encoding has between 1 and `maxBytes` bytes. */
export function assertIdentifier(value: unknown, name: string, maxBytes: number): string {
  if (typeof value !== "string") {
    throw new TypeError(`${name}: expected a string, got ${typeof value}`);
  }
  const size = utf8Encode(value).length;
  if (size === 0 || size > maxBytes) {
    throw new RangeError(`${name}: expected 1 to ${maxBytes} UTF-8 bytes, got ${size}`);
  }
  if (CONTROL_CHARACTERS.test(value)) {
    throw new RangeError(
      `${name}: must not contain control characters, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

// C0 controls, DEL and C1 controls: identifiers end up in logs and audit records.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern exists to reject them.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

const encoder = new TextEncoder();

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Compares two byte arrays in time that depends only on their lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Decodes lowercase or uppercase hex; throws on odd length or a non-hex character. */
export function fromHex(hex: string, name = "hex"): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RangeError(`${name}: expected an even-length hex string`);
  }
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Returns `length` bytes from the operating system's CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(length));
}

/** Overwrites secret material that is no longer needed. */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const array of arrays) array?.fill(0);
}
