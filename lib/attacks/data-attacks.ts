/**
 * Training-data poisoning for simulated clients that train: label flipping and a pixel-pattern
 * backdoor trigger (BadNets-style, Gu et al., 2017), plus the triggered test set that measures
 * backdoor success.
 *
 * Images are one Float32Array of N samples laid out N x height x width x channels (the
 * TensorFlow.js NHWC order), pixel values typically in [0, 1]. Labels are class indices.
 * Exactly floor(fraction * N) samples are poisoned, chosen without replacement by a seeded
 * Fisher-Yates shuffle; inputs are never modified.
 */

import { createRandom } from "../random";
import { AttackError, assertFiniteNumber, assertFraction, assertInteger } from "./common";

/**
 * Rule that picks a flipped label. "random" draws another class uniformly. "next" takes
 * (y + 1) mod numClasses, as the earlier Python system did. "reverse" takes numClasses - 1 - y
 * (9 - y for digits) and needs an even numClasses, because otherwise the middle class maps to
 * itself.
 */
export type LabelFlipMode = "random" | "next" | "reverse";

export interface LabelFlipOptions {
  fraction: number;
  seed: number;
  mode?: LabelFlipMode;
  numClasses?: number;
}

export interface PoisonedLabels {
  labels: Int32Array;
  /** Indices of the samples whose label was changed, ascending. */
  poisonedIndices: Int32Array;
}

/** Returns a copy of `labels` with floor(fraction * N) of them moved to another class. */
export function flipLabels(labels: ArrayLike<number>, options: LabelFlipOptions): PoisonedLabels {
  const numClasses = options.numClasses ?? 10;
  const mode = options.mode ?? "random";
  assertInteger(numClasses, "numClasses", 2);
  const out = checkLabels(labels, numClasses);
  assertFraction(options.fraction, "fraction");
  assertFiniteNumber(options.seed, "seed");
  if (mode !== "random" && mode !== "next" && mode !== "reverse") {
    throw new AttackError(`mode must be "random", "next" or "reverse", got ${String(mode)}`);
  }
  if (mode === "reverse" && numClasses % 2 === 1) {
    throw new AttackError(
      `mode "reverse" needs an even numClasses, got ${numClasses}: class ${(numClasses - 1) / 2} would map to itself`,
    );
  }

  const random = createRandom(options.seed);
  const chosen = chooseIndices(out.length, options.fraction, random);
  for (const i of chosen) {
    const y = out[i];
    if (mode === "next") out[i] = (y + 1) % numClasses;
    else if (mode === "reverse") out[i] = numClasses - 1 - y;
    else out[i] = (y + 1 + random.int(numClasses - 1)) % numClasses;
  }
  return { labels: out, poisonedIndices: chosen };
}

/** Corner of the image where the trigger sits. */
export type TriggerCorner = "top-left" | "top-right" | "bottom-left" | "bottom-right";

export interface TriggerPattern {
  /** Side of the square, in pixels. */
  size?: number;
  corner?: TriggerCorner;
  /** Pixels between the square and the image edges. */
  margin?: number;
  /** Value written to every channel of the square's pixels (1 = white for [0, 1] images). */
  value?: number;
}

export interface ImageShape {
  height?: number;
  width?: number;
  channels?: number;
}

export interface TriggerOptions extends TriggerPattern, ImageShape {
  fraction: number;
  targetClass: number;
  seed: number;
  numClasses?: number;
}

export interface PoisonedSamples {
  images: Float32Array;
  labels: Int32Array;
  /** Indices of the stamped and relabelled samples, ascending. */
  poisonedIndices: Int32Array;
}

/**
 * Stamps the trigger on floor(fraction * N) samples and relabels them to `targetClass`. The
 * defaults give a 3 x 3 white square in the bottom-right corner of 28 x 28 x 1 images.
 */
export function poisonWithTrigger(
  images: Float32Array,
  labels: ArrayLike<number>,
  options: TriggerOptions,
): PoisonedSamples {
  const numClasses = options.numClasses ?? 10;
  assertInteger(numClasses, "numClasses", 2);
  const outLabels = checkLabels(labels, numClasses);
  const shape = checkImages(images, outLabels.length, options);
  const pixels = triggerPixels(shape, options);
  assertInteger(options.targetClass, "targetClass", 0, numClasses - 1);
  assertFraction(options.fraction, "fraction");
  assertFiniteNumber(options.seed, "seed");

  const outImages = images.slice();
  const chosen = chooseIndices(outLabels.length, options.fraction, createRandom(options.seed));
  const value = options.value ?? 1;
  for (const i of chosen) {
    stamp(outImages, i, shape, pixels, value);
    outLabels[i] = options.targetClass;
  }
  return { images: outImages, labels: outLabels, poisonedIndices: chosen };
}

export interface TriggeredTestSet {
  /** The test samples not of the target class, each with the trigger stamped. */
  images: Float32Array;
  /** The target class, once per sample. */
  labels: Int32Array;
  /** The samples' true labels. */
  originalLabels: Int32Array;
  /** Index of each sample in the input test set. */
  sourceIndices: Int32Array;
}

/**
 * Builds the triggered test set: every test sample whose true label is not `targetClass`, with
 * the trigger stamped and the label set to the target. The backdoor success rate is the share
 * of these samples the model classifies as the target (see backdoorSuccessRate).
 */
export function buildTriggeredTestSet(
  images: Float32Array,
  labels: ArrayLike<number>,
  options: TriggerPattern & ImageShape & { targetClass: number; numClasses?: number },
): TriggeredTestSet {
  const numClasses = options.numClasses ?? 10;
  assertInteger(numClasses, "numClasses", 2);
  const trueLabels = checkLabels(labels, numClasses);
  const shape = checkImages(images, trueLabels.length, options);
  const pixels = triggerPixels(shape, options);
  assertInteger(options.targetClass, "targetClass", 0, numClasses - 1);

  const sources: number[] = [];
  for (let i = 0; i < trueLabels.length; i++) {
    if (trueLabels[i] !== options.targetClass) sources.push(i);
  }
  const sampleSize = shape.height * shape.width * shape.channels;
  const outImages = new Float32Array(sources.length * sampleSize);
  const value = options.value ?? 1;
  sources.forEach((source, i) => {
    outImages.set(images.subarray(source * sampleSize, (source + 1) * sampleSize), i * sampleSize);
    stamp(outImages, i, shape, pixels, value);
  });
  return {
    images: outImages,
    labels: new Int32Array(sources.length).fill(options.targetClass),
    originalLabels: Int32Array.from(sources, (i) => trueLabels[i]),
    sourceIndices: Int32Array.from(sources),
  };
}

/** Returns the share of `predictions` equal to `targetClass`; 0 for no predictions. */
export function backdoorSuccessRate(predictions: ArrayLike<number>, targetClass: number): number {
  assertInteger(targetClass, "targetClass", 0);
  if (predictions.length === 0) return 0;
  let hits = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === targetClass) hits++;
  return hits / predictions.length;
}

interface Shape {
  height: number;
  width: number;
  channels: number;
}

function checkLabels(labels: ArrayLike<number>, numClasses: number): Int32Array {
  if (labels == null || typeof labels.length !== "number") {
    throw new AttackError("labels must be an array of class indices");
  }
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new AttackError(
        `labels[${i}] must be a class index in [0, ${numClasses - 1}], got ${y}`,
      );
    }
    out[i] = y;
  }
  return out;
}

function checkImages(images: Float32Array, count: number, shape: ImageShape): Shape {
  const height = shape.height ?? 28;
  const width = shape.width ?? 28;
  const channels = shape.channels ?? 1;
  assertInteger(height, "height", 1);
  assertInteger(width, "width", 1);
  assertInteger(channels, "channels", 1);
  if (!(images instanceof Float32Array)) throw new AttackError("images must be a Float32Array");
  const expected = count * height * width * channels;
  if (images.length !== expected) {
    throw new AttackError(
      `images has ${images.length} values, expected ${count} samples x ${height} x ${width} x ${channels} = ${expected}`,
    );
  }
  return { height, width, channels };
}

/** Returns the (row, column) pixel offsets row * width + column covered by the trigger. */
function triggerPixels(shape: Shape, pattern: TriggerPattern): Int32Array {
  const size = pattern.size ?? 3;
  const margin = pattern.margin ?? 0;
  const corner = pattern.corner ?? "bottom-right";
  assertInteger(size, "size", 1);
  assertInteger(margin, "margin", 0);
  assertFiniteNumber(pattern.value ?? 1, "value");
  if (!["top-left", "top-right", "bottom-left", "bottom-right"].includes(corner)) {
    throw new AttackError(
      `corner must be "top-left", "top-right", "bottom-left" or "bottom-right", got ${String(corner)}`,
    );
  }
  if (size + margin > shape.height || size + margin > shape.width) {
    throw new AttackError(
      `a ${size} x ${size} trigger with margin ${margin} does not fit a ${shape.height} x ${shape.width} image`,
    );
  }
  const top = corner.startsWith("top") ? margin : shape.height - margin - size;
  const left = corner.endsWith("left") ? margin : shape.width - margin - size;
  const pixels = new Int32Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) pixels[r * size + c] = (top + r) * shape.width + left + c;
  }
  return pixels;
}

function stamp(
  images: Float32Array,
  sample: number,
  shape: Shape,
  pixels: Int32Array,
  value: number,
): void {
  const base = sample * shape.height * shape.width * shape.channels;
  for (const pixel of pixels) {
    for (let ch = 0; ch < shape.channels; ch++) images[base + pixel * shape.channels + ch] = value;
  }
}

/** Returns floor(fraction * n) distinct indices in [0, n), ascending, by a partial shuffle. */
function chooseIndices(
  n: number,
  fraction: number,
  random: { int(n: number): number },
): Int32Array {
  // The 1e-9 keeps a decimal fraction whose float64 product falls just short of an integer
  // (0.29 * 100 = 28.999999999999996) from losing a sample.
  const count = Math.min(n, Math.floor(fraction * n + 1e-9));
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + random.int(n - i);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order.slice(0, count).sort();
}
