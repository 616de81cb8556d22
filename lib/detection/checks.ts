/**
 * Input checks shared by the detection modules. Each one throws a RangeError or TypeError that
 * names the argument, the value received and the value expected.
 */

export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return `a value of type ${typeof value}`;
}

export function assertInteger(value: unknown, name: string, min: number, max = Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`${name} must be an integer ${range}, got ${describeValue(value)}`);
  }
  return value;
}

export function assertFinite(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** Checks `min <= value <= max`, or `min < value < max` when `open` is set. */
export function assertInRange(
  value: unknown,
  name: string,
  min: number,
  max: number,
  open = false,
): number {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (open ? value > min && value < max : value >= min && value <= max);
  if (!ok) {
    const range = open ? `(${min}, ${max})` : `[${min}, ${max}]`;
    throw new RangeError(`${name} must be a number in ${range}, got ${describeValue(value)}`);
  }
  return value as number;
}

export function assertNonEmptyString(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

/** A feature row: a plain array or a typed array of numbers. */
export type FeatureRow = ArrayLike<number>;

/** Copies `row` into a Float64Array after checking its length and that every value is finite. */
export function toFeatureVector(row: unknown, name: string, expectedLength?: number): Float64Array {
  if (!Array.isArray(row) && !(ArrayBuffer.isView(row) && !(row instanceof DataView))) {
    throw new TypeError(`${name} must be an array of numbers, got ${describeValue(row)}`);
  }
  const values = row as ArrayLike<unknown>;
  if (expectedLength !== undefined && values.length !== expectedLength) {
    throw new RangeError(`${name} has ${values.length} features, expected ${expectedLength}`);
  }
  if (values.length === 0) throw new RangeError(`${name} must have at least one feature, got 0`);
  const out = new Float64Array(values.length);
  for (let j = 0; j < values.length; j++) {
    const value = values[j];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new RangeError(`${name}[${j}] must be a finite number, got ${describeValue(value)}`);
    }
    out[j] = value;
  }
  return out;
}
