/**
 * Local training and evaluation of a federation's model on one client's digits.
 *
 * Each call builds a fresh model from the spec, loads the given weights, trains or evaluates, and
 * reads the weights back. It then disposes every tensor it created (the model's variables, the
 * optimiser's slots and the data tensors), so a client that runs hundreds of rounds keeps a flat
 * tf.memory().
 *
 * Training is reproducible for a fixed seed on one backend: the sample order of each epoch comes
 * from a seeded shuffle (TensorFlow.js's own fit() shuffle uses Math.random, so it is switched
 * off), and dropout masks are seeded per batch (see model.ts). The WASM and cpu backends may
 * still differ in the last bits of a float32 sum.
 */

import * as tf from "@tensorflow/tfjs";
import { createRandom, shuffleInPlace } from "../random";
import type { Weights } from "../tensors";
import { initTensorFlow } from "./backend";
import { assertDataset, type Dataset } from "./data";
import { buildModel, getModelWeights, inputShapeOf, setModelWeights } from "./model";
import { INPUT_SIZE, type ModelSpecInput, NUM_CLASSES, parseModelSpec } from "./spec";

export interface TrainLocalOptions {
  /** Passes over the local data, the spec's localEpochs when absent. */
  epochs?: number;
  /** Samples per gradient step, the spec's batchSize when absent. */
  batchSize?: number;
  /** Seed of the sample order and of the dropout masks. */
  seed: number;
}

export interface TrainLocalResult {
  weights: Weights;
  /** Samples trained on, the FedAvg weight of the update. */
  numSamples: number;
  /** Mean categorical cross-entropy over the last epoch's batches, in training mode. */
  loss: number;
  /** Share of the last epoch's samples classified correctly, in training mode. */
  accuracy: number;
}

export interface Evaluation {
  /** Mean categorical cross-entropy. */
  loss: number;
  /** Share of samples whose most probable class is the label. */
  accuracy: number;
}

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}

/**
 * Trains the spec's model from `weights` on `data` and returns the trained weights with the last
 * epoch's loss and accuracy. Throws LayoutMismatchError when `weights` does not fit the spec, and
 * TrainingError when training produced a NaN or infinite weight.
 */
export async function trainLocal(
  spec: ModelSpecInput,
  weights: Weights,
  data: Dataset,
  options: TrainLocalOptions,
): Promise<TrainLocalResult> {
  const parsed = parseModelSpec(spec);
  const numSamples = assertDataset(data, "data");
  if (numSamples === 0) throw new RangeError("data: expected at least one sample, got 0");
  const epochs = options?.epochs ?? parsed.localEpochs;
  const batchSize = options?.batchSize ?? parsed.batchSize;
  assertPositiveInteger(epochs, "options.epochs");
  assertPositiveInteger(batchSize, "options.batchSize");
  if (!Number.isSafeInteger(options?.seed)) {
    throw new RangeError(`options.seed: expected a safe integer, got ${String(options?.seed)}`);
  }
  await initTensorFlow();

  const model = buildModel(parsed, { seed: options.seed + 1 });
  const optimizer =
    parsed.optimizer === "adam"
      ? tf.train.adam(parsed.learningRate)
      : tf.train.sgd(parsed.learningRate);
  try {
    setModelWeights(model, weights);
    model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const random = createRandom(options.seed);
    const order = Array.from({ length: numSamples }, (_, i) => i);
    let loss = Number.NaN;
    let accuracy = Number.NaN;
    for (let epoch = 0; epoch < epochs; epoch++) {
      shuffleInPlace(order, random);
      const { xs, ys } = toTensors(data, order, inputShapeOf(parsed));
      try {
        const history = await model.fit(xs, ys, {
          epochs: 1,
          batchSize,
          shuffle: false,
          verbose: 0,
        });
        loss = Number(history.history.loss[0]);
        accuracy = Number(history.history.acc[0]);
      } finally {
        tf.dispose([xs, ys]);
      }
    }
    const trained = getModelWeights(model);
    for (const tensor of trained) {
      const bad = tensor.data.findIndex((value) => !Number.isFinite(value));
      if (bad !== -1) {
        throw new TrainingError(
          `training diverged: tensor "${tensor.name}" holds ${tensor.data[bad]} at index ${bad} (last loss ${loss}); lower the learning rate`,
        );
      }
    }
    return { weights: trained, numSamples, loss, accuracy };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** Returns the loss and accuracy of the spec's model with `weights` on `data`. */
export async function evaluateModel(
  spec: ModelSpecInput,
  weights: Weights,
  data: Dataset,
  options: { batchSize?: number } = {},
): Promise<Evaluation> {
  const parsed = parseModelSpec(spec);
  const n = assertDataset(data, "data");
  if (n === 0) throw new RangeError("data: expected at least one sample, got 0");
  const batchSize = options.batchSize ?? 512;
  assertPositiveInteger(batchSize, "options.batchSize");
  await initTensorFlow();

  const model = buildModel(parsed);
  try {
    setModelWeights(model, weights);
    // evaluate() needs a compiled model. An optimiser given by name is disposed with the model.
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy", metrics: ["accuracy"] });
    const order = Array.from({ length: n }, (_, i) => i);
    const { xs, ys } = toTensors(data, order, inputShapeOf(parsed));
    try {
      const results = model.evaluate(xs, ys, { batchSize }) as tf.Scalar[];
      try {
        const [loss, accuracy] = results.map((scalar) => scalar.dataSync()[0]);
        return { loss, accuracy };
      } finally {
        tf.dispose(results);
      }
    } finally {
      tf.dispose([xs, ys]);
    }
  } finally {
    model.dispose();
  }
}

function toTensors(
  data: Dataset,
  order: readonly number[],
  inputShape: number[],
): { xs: tf.Tensor; ys: tf.Tensor } {
  const images = new Float32Array(order.length * INPUT_SIZE);
  const labels = new Int32Array(order.length);
  order.forEach((source, i) => {
    images.set(
      data.images.subarray(source * INPUT_SIZE, (source + 1) * INPUT_SIZE),
      i * INPUT_SIZE,
    );
    labels[i] = data.labels[source];
  });
  const xs = tf.tensor(images, [order.length, ...inputShape]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), NUM_CLASSES));
  return { xs, ys };
}

function assertPositiveInteger(value: number, argument: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${argument}: expected an integer >= 1, got ${String(value)}`);
  }
}
