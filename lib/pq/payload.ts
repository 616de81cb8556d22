/**
 * Tensor manifest and weights payload shared by the update envelope and the signed global model.
 *
 * Manifest entry: u16 name length, UTF-8 name, u8 dtype (1 = float32, the only one in format
 * version 1), u8 rank, then rank u32 dimensions. Payload: the float32 values of every tensor in
 * manifest order, little-endian, with no padding, so its length is 4 x the parameter count.
 */

import type { TensorSpec, Weights } from "../tensors";
import { assertSameLayout, manifestOf, tensorSize } from "../tensors";
import { assertIdentifier } from "./bytes";
import { type ByteReader, type ByteWriter, CodecError } from "./codec";

export const DTYPE_FLOAT32 = 1;
export const MAX_TENSORS = 4096;
export const MAX_RANK = 8;
export const MAX_TENSOR_NAME_BYTES = 256;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws unless `manifest` can be encoded: 1..MAX_TENSORS tensors with valid names and shapes. */
export function assertManifestShape(manifest: readonly TensorSpec[], name = "manifest"): void {
  if (!Array.isArray(manifest) || manifest.length === 0 || manifest.length > MAX_TENSORS) {
    const found = Array.isArray(manifest) ? `${manifest.length} tensors` : typeof manifest;
    throw new RangeError(`${name}: expected 1 to ${MAX_TENSORS} tensors, got ${found}`);
  }
  const seen = new Set<string>();
  for (const [index, spec] of manifest.entries()) {
    assertIdentifier(spec.name, `${name}[${index}].name`, MAX_TENSOR_NAME_BYTES);
    if (seen.has(spec.name)) {
      throw new RangeError(`${name}[${index}].name: duplicate tensor name "${spec.name}"`);
    }
    seen.add(spec.name);
    if (!Array.isArray(spec.shape) || spec.shape.length > MAX_RANK) {
      throw new RangeError(`${name}[${index}].shape: expected at most ${MAX_RANK} dimensions`);
    }
    for (const dim of spec.shape) {
      if (!Number.isInteger(dim) || dim < 0 || dim > 0xffffffff) {
        throw new RangeError(
          `${name}[${index}].shape: dimension ${dim} is not an integer in [0, 2^32 - 1]`,
        );
      }
    }
  }
}

export function writeManifest(writer: ByteWriter, manifest: readonly TensorSpec[]): void {
  writer.u16(manifest.length);
  for (const spec of manifest) {
    writer.string(spec.name).u8(DTYPE_FLOAT32).u8(spec.shape.length);
    for (const dim of spec.shape) writer.u32(dim);
  }
}

/**
 * Reads a manifest and returns it with its parameter count. Rejects more than `maxParameters`
 * values before multiplying further, so a hostile shape cannot overflow the count.
 */
export function readManifest(
  reader: ByteReader,
  maxParameters: number,
): { manifest: TensorSpec[]; parameterCount: number } {
  const count = reader.u16("manifest tensor count");
  if (count === 0 || count > MAX_TENSORS) {
    throw new CodecError(`manifest tensor count ${count} outside [1, ${MAX_TENSORS}]`);
  }
  const manifest: TensorSpec[] = [];
  const seen = new Set<string>();
  let parameterCount = 0;
  for (let index = 0; index < count; index++) {
    const name = reader.string(`manifest[${index}].name`, MAX_TENSOR_NAME_BYTES);
    try {
      assertIdentifier(name, `manifest[${index}].name`, MAX_TENSOR_NAME_BYTES);
    } catch (error) {
      throw new CodecError((error as Error).message);
    }
    if (seen.has(name)) throw new CodecError(`manifest[${index}].name: duplicate "${name}"`);
    seen.add(name);
    const dtype = reader.u8(`manifest[${index}].dtype`);
    if (dtype !== DTYPE_FLOAT32) {
      throw new CodecError(
        `manifest[${index}].dtype: ${dtype}, expected ${DTYPE_FLOAT32} (float32)`,
      );
    }
    const rank = reader.u8(`manifest[${index}].rank`);
    if (rank > MAX_RANK) throw new CodecError(`manifest[${index}].rank: ${rank} > ${MAX_RANK}`);
    const shape: number[] = [];
    let size = 1;
    for (let axis = 0; axis < rank; axis++) {
      const dim = reader.u32(`manifest[${index}].shape[${axis}]`);
      shape.push(dim);
      size *= dim;
      if (size > maxParameters) {
        throw new CodecError(`manifest[${index}]: more than ${maxParameters} values`);
      }
    }
    parameterCount += size;
    if (parameterCount > maxParameters) {
      throw new CodecError(`manifest: more than ${maxParameters} values in total`);
    }
    manifest.push({ name, shape });
  }
  return { manifest, parameterCount };
}

/** Serializes weights as little-endian float32 in manifest order. */
export function encodeWeightsPayload(weights: Weights): Uint8Array {
  assertSameLayout(weights, manifestOf(weights), "weights");
  let total = 0;
  for (const tensor of weights) total += tensor.data.length;
  const values = new Float32Array(total);
  let offset = 0;
  for (const tensor of weights) {
    values.set(tensor.data, offset);
    offset += tensor.data.length;
  }
  const bytes = new Uint8Array(values.buffer);
  if (!HOST_IS_LITTLE_ENDIAN) swapFloat32Bytes(bytes);
  return bytes;
}

/**
 * Reinterprets a payload as float32 values without copying when the host is little-endian and the
 * bytes are 4-byte aligned; copies otherwise. The caller has checked the length.
 */
export function payloadValues(payload: Uint8Array): Float32Array {
  const count = payload.length / 4;
  if (HOST_IS_LITTLE_ENDIAN && payload.byteOffset % 4 === 0) {
    return new Float32Array(payload.buffer, payload.byteOffset, count);
  }
  const copy = payload.slice();
  if (!HOST_IS_LITTLE_ENDIAN) swapFloat32Bytes(copy);
  return new Float32Array(copy.buffer, 0, count);
}

/** Returns the index of the first NaN or infinite value, or -1 when all are finite. */
export function findNonFinite(values: Float32Array): number {
  // x * 0 is 0 for every finite x and NaN for NaN and +-Infinity. One pass summing those products
  // therefore detects a bad value, and only then does the slower search for its position run.
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i] * 0;
  if (probe === 0) return -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return i;
  }
  return -1;
}

/** Splits flat values into tensors laid out as `manifest`; the tensors are views, not copies. */
export function splitIntoTensors(values: Float32Array, manifest: readonly TensorSpec[]): Weights {
  const weights: Weights = [];
  let offset = 0;
  for (const spec of manifest) {
    const size = tensorSize(spec.shape);
    weights.push({
      name: spec.name,
      shape: [...spec.shape],
      data: values.subarray(offset, offset + size),
    });
    offset += size;
  }
  return weights;
}

/** Returns the name of the tensor that contains flat value `index`. */
export function tensorNameAt(manifest: readonly TensorSpec[], index: number): string {
  let end = 0;
  for (const spec of manifest) {
    end += tensorSize(spec.shape);
    if (index < end) return spec.name;
  }
  return "(out of range)";
}

/** Returns a description of the first difference between two manifests, or null if equal. */
export function describeManifestDifference(
  actual: readonly TensorSpec[],
  expected: readonly TensorSpec[],
): string | null {
  if (actual.length !== expected.length) {
    return `${actual.length} tensors, expected ${expected.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a.name !== e.name) return `tensor ${i} is named "${a.name}", expected "${e.name}"`;
    const sameShape =
      a.shape.length === e.shape.length && a.shape.every((d, k) => d === e.shape[k]);
    if (!sameShape) {
      return `tensor "${e.name}" has shape [${a.shape.join(", ")}], expected [${e.shape.join(", ")}]`;
    }
  }
  return null;
}

function swapFloat32Bytes(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const b0 = bytes[i];
    const b1 = bytes[i + 1];
    bytes[i] = bytes[i + 3];
    bytes[i + 1] = bytes[i + 2];
    bytes[i + 2] = b1;
    bytes[i + 3] = b0;
  }
}
