/**
 * Input checks shared by the aggregation kernels. Every kernel takes the round's deltas as one
 * Float32Array per client, all of one length, and checks them here before touching any value.
 */

/**
 * Invalid aggregation input: a parameter out of range, a Byzantine bound that n does not meet,
 * a zero total weight or a non-finite value. `clientId` and `tensorName` are set when the
 * failure belongs to one client's update.
 */
export class AggregationError extends Error {
  constructor(
    message: string,
    readonly clientId?: string,
    readonly tensorName?: string,
  ) {
    super(message);
    this.name = "AggregationError";
  }
}

/** Throws unless `deltas` is a non-empty list of Float32Arrays of one length; returns that length. */
export function assertDeltas(deltas: readonly Float32Array[], argument = "deltas"): number {
  if (!Array.isArray(deltas) || deltas.length === 0) {
    throw new AggregationError(`${argument} must be a non-empty array of Float32Array, got none`);
  }
  const length = deltas[0]?.length;
  for (let i = 0; i < deltas.length; i++) {
    const delta = deltas[i];
    if (!(delta instanceof Float32Array)) {
      throw new AggregationError(`${argument}[${i}] must be a Float32Array`);
    }
    if (delta.length !== length) {
      throw new AggregationError(
        `${argument}[${i}] has ${delta.length} values, expected ${length} like ${argument}[0]`,
      );
    }
  }
  return length;
}

/** Throws unless `value` is an integer in [min, max]. */
export function assertInteger(value: number, argument: string, min: number, max = Infinity): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new AggregationError(`${argument} must be an integer ${range}, got ${value}`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function assertPositive(value: number, argument: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new AggregationError(`${argument} must be a finite number > 0, got ${value}`);
  }
}

/**
 * Throws naming the first client and coordinate with a NaN or infinite value. Kernels call it
 * only after a cheap check has shown that such a value exists.
 */
export function throwNonFinite(deltas: readonly Float32Array[], argument = "deltas"): never {
  for (let i = 0; i < deltas.length; i++) {
    const delta = deltas[i];
    for (let k = 0; k < delta.length; k++) {
      if (!Number.isFinite(delta[k])) {
        throw new AggregationError(
          `${argument}[${i}][${k}] is ${delta[k]}, expected a finite number`,
        );
      }
    }
  }
  throw new AggregationError(`${argument} produced a non-finite result from finite values`);
}
