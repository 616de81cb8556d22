/**
 * Model weights as named float32 tensors, in the order of the model's manifest.
 *
 * Every layer of the system (wire format, detection, aggregation, TensorFlow.js clients) speaks in
 * this shape, so a tensor's name and shape travel with its values and a mismatch between two
 * updates can be reported by name instead of by flat offset.
 */

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface Tensor extends TensorSpec {
  data: Float32Array;
}

/** Tensors in manifest order. */
export type Weights = Tensor[];

/** Returns the number of elements of a tensor with this shape (1 for a scalar). */
export function tensorSize(shape: readonly number[]): number {
  let size = 1;
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new RangeError(
        `invalid tensor shape [${shape.join(", ")}]: dimensions must be integers >= 0`,
      );
    }
    size *= dim;
  }
  return size;
}

export function manifestOf(weights: Weights): TensorSpec[] {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape] }));
}

export function parameterCount(specs: readonly TensorSpec[]): number {
  let total = 0;
  for (const spec of specs) total += tensorSize(spec.shape);
  return total;
}

/** Concatenates the tensors' values into one vector, in manifest order. */
export function flattenWeights(weights: Weights): Float32Array {
  const out = new Float32Array(parameterCount(weights));
  let offset = 0;
  for (const t of weights) {
    out.set(t.data, offset);
    offset += t.data.length;
  }
  return out;
}

/** Splits a flat vector back into tensors laid out as `specs`. */
export function unflattenWeights(flat: Float32Array, specs: readonly TensorSpec[]): Weights {
  const expected = parameterCount(specs);
  if (flat.length !== expected) {
    throw new RangeError(`flat vector has ${flat.length} values, the manifest needs ${expected}`);
  }
  const out: Weights = [];
  let offset = 0;
  for (const spec of specs) {
    const size = tensorSize(spec.shape);
    out.push({ name: spec.name, shape: [...spec.shape], data: flat.slice(offset, offset + size) });
    offset += size;
  }
  return out;
}

/**
 * Throws unless `weights` has exactly the tensors of `expected`, with the same names, order and
 * shapes, and data lengths that match the shapes. `owner` (a client id, say) is named in the error.
 */
export function assertSameLayout(
  weights: Weights,
  expected: readonly TensorSpec[],
  owner = "update",
): void {
  if (weights.length !== expected.length) {
    throw new LayoutMismatchError(
      owner,
      undefined,
      `${owner} has ${weights.length} tensors, expected ${expected.length} (${expected.map((s) => s.name).join(", ")})`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    const t = weights[i];
    const spec = expected[i];
    if (t.name !== spec.name) {
      throw new LayoutMismatchError(
        owner,
        spec.name,
        `${owner}: tensor ${i} is named "${t.name}", expected "${spec.name}"`,
      );
    }
    if (t.shape.length !== spec.shape.length || t.shape.some((d, k) => d !== spec.shape[k])) {
      throw new LayoutMismatchError(
        owner,
        spec.name,
        `${owner}: tensor "${spec.name}" has shape [${t.shape.join(", ")}], expected [${spec.shape.join(", ")}]`,
      );
    }
    if (t.data.length !== tensorSize(spec.shape)) {
      throw new LayoutMismatchError(
        owner,
        spec.name,
        `${owner}: tensor "${spec.name}" holds ${t.data.length} values, its shape needs ${tensorSize(spec.shape)}`,
      );
    }
  }
}

export class LayoutMismatchError extends Error {
  constructor(
    readonly owner: string,
    readonly tensorName: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "LayoutMismatchError";
  }
}

/** Returns `a - b` tensor by tensor; both must share one layout. */
export function subtractWeights(a: Weights, b: Weights): Weights {
  assertSameLayout(a, manifestOf(b), "minuend");
  return a.map((t, i) => {
    const other = b[i].data;
    const data = new Float32Array(t.data.length);
    for (let k = 0; k < data.length; k++) data[k] = t.data[k] - other[k];
    return { name: t.name, shape: [...t.shape], data };
  });
}

export function cloneWeights(weights: Weights): Weights {
  return weights.map((t) => ({ name: t.name, shape: [...t.shape], data: t.data.slice() }));
}
