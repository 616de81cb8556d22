/**
 * Canonical binary encoding for everything lib/pq signs or authenticates.
 *
 * Integers are little-endian with fixed widths, strings are UTF-8 behind a u16 byte length, and
 * fixed-size fields (nonces, keys, digests) are written raw. Every value has exactly one encoding,
 * and the reader rejects anything else: a length that runs past the end or over the field's
 * maximum, invalid UTF-8, a u64 above 2^53 - 1, and trailing bytes. A signature over the encoding
 * is therefore a signature over the values, and no two different messages share bytes.
 */

import { assertIdentifier, utf8Encode } from "./bytes";

/** A structural decoding failure; callers map it to their own typed error. */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CodecError";
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Appends fields to a growing buffer. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  private reserve(size: number): number {
    const offset = this.length;
    const needed = offset + size;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, offset));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return offset;
  }

  // Each method reserves before touching this.buffer or this.view, because reserve() may replace
  // both with larger ones.

  u8(value: number): this {
    const offset = this.reserve(1);
    this.view.setUint8(offset, value);
    return this;
  }

  u16(value: number): this {
    const offset = this.reserve(2);
    this.view.setUint16(offset, value, true);
    return this;
  }

  u32(value: number): this {
    const offset = this.reserve(4);
    this.view.setUint32(offset, value, true);
    return this;
  }

  /** Writes a safe integer (at most 2^53 - 1) or a bigint below 2^64 as a u64. */
  u64(value: number | bigint): this {
    const offset = this.reserve(8);
    this.view.setBigUint64(offset, BigInt(value), true);
    return this;
  }

  bytes(value: Uint8Array): this {
    const offset = this.reserve(value.length);
    this.buffer.set(value, offset);
    return this;
  }

  /** Writes a u16 byte length followed by the UTF-8 bytes. */
  string(value: string): this {
    const encoded = utf8Encode(value);
    if (encoded.length > 0xffff) throw new CodecError(`string of ${encoded.length} bytes`);
    return this.u16(encoded.length).bytes(encoded);
  }

  /** Returns a copy of the written bytes. */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Reads fields from a byte array, throwing CodecError on any non-canonical input. */
export class ByteReader {
  private readonly view: DataView;
  private position = 0;

  constructor(private readonly input: Uint8Array) {
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.input.length - this.position;
  }

  private take(size: number, field: string): number {
    if (size > this.remaining) {
      throw new CodecError(
        `${field}: needs ${size} bytes at offset ${this.position}, only ${this.remaining} left`,
      );
    }
    const offset = this.position;
    this.position += size;
    return offset;
  }

  u8(field: string): number {
    return this.view.getUint8(this.take(1, field));
  }

  u16(field: string): number {
    return this.view.getUint16(this.take(2, field), true);
  }

  u32(field: string): number {
    return this.view.getUint32(this.take(4, field), true);
  }

  /** Reads a u64 that must fit a safe integer. */
  u64(field: string): number {
    const value = this.view.getBigUint64(this.take(8, field), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CodecError(`${field}: ${value} exceeds 2^53 - 1`);
    }
    return Number(value);
  }

  u64BigInt(field: string): bigint {
    return this.view.getBigUint64(this.take(8, field), true);
  }

  /** Returns a view into the input, not a copy. */
  bytes(size: number, field: string): Uint8Array {
    const offset = this.take(size, field);
    return this.input.subarray(offset, offset + size);
  }

  /** Reads a u16-length UTF-8 string of 1 to `maxBytes` bytes. */
  string(field: string, maxBytes: number): string {
    const size = this.u16(`${field} length`);
    if (size === 0 || size > maxBytes) {
      throw new CodecError(`${field}: length ${size} outside [1, ${maxBytes}]`);
    }
    const raw = this.bytes(size, field);
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      throw new CodecError(`${field}: invalid UTF-8`);
    }
    return text;
  }

  /** Reads a string that must also pass assertIdentifier (no control characters). */
  identifier(field: string, maxBytes: number): string {
    const value = this.string(field, maxBytes);
    try {
      return assertIdentifier(value, field, maxBytes);
    } catch (error) {
      throw new CodecError((error as Error).message);
    }
  }

  /** Throws unless every input byte was consumed. */
  end(structure: string): void {
    if (this.remaining !== 0) {
      throw new CodecError(
        `${structure}: ${this.remaining} trailing bytes at offset ${this.position}`,
      );
    }
  }
}
