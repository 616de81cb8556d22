/**
 * TensorFlow.js models built from a model spec, and the bridge between their variables and the
 * project's Weights (named float32 tensors in manifest order).
 *
 * Tensor names come from the position of each dense layer (`dense_0/kernel`, `dense_0/bias`,
 * `dense_1/kernel`, ...), never from TensorFlow.js layer names. Those carry a process-wide
 * counter (`dense_Dense7`), so two models of one spec built in one process would otherwise
 * disagree on names, and so would a client and the server.
 *
 * Dropout uses SeededDropout below instead of tf.layers.dropout. The stock layer either draws its
 * masks from Math.random, which makes training irreproducible, or, when given a seed, draws the
 * same mask on every batch. SeededDropout seeds each batch's mask with (layer seed + step).
 */

import * as tf from "@tensorflow/tfjs";
import { createRandom } from "../random";
import { assertSameLayout, type TensorSpec, type Weights } from "../tensors";
import {
  DENSE_DROPOUT_RATE,
  denseLayerWidths,
  INPUT_SIZE,
  type ModelSpec,
  type ModelSpecInput,
  manifestForSpec,
  parseModelSpec,
} from "./spec";

/** Input shape of one sample, without the batch dimension. */
export function inputShapeOf(spec: ModelSpecInput): number[] {
  return parseModelSpec(spec).architecture === "dense_dropout" ? [28, 28] : [INPUT_SIZE];
}

/**
 * Builds an uncompiled model for `spec`. `seed` fixes the dropout masks drawn during training
 * and the initial weights; without it both come from Math.random. Callers that train or
 * predict usually overwrite the weights with setModelWeights right after.
 */
export function buildModel(spec: ModelSpecInput, options: { seed?: number } = {}): tf.Sequential {
  const parsed = parseModelSpec(spec);
  if (options.seed !== undefined) assertSeed(options.seed, "options.seed");
  const widths = denseLayerWidths(parsed);
  const seeds =
    options.seed === undefined ? undefined : derivedSeeds(options.seed, 2 * widths.length);
  const model = tf.sequential();
  widths.forEach((units, i) => {
    const last = i === widths.length - 1;
    const kernelInitializer = tf.initializers.glorotUniform({ seed: seeds?.[i] });
    if (parsed.architecture === "dense_dropout" && i === 0) {
      model.add(tf.layers.flatten({ inputShape: [28, 28] }));
    }
    model.add(
      tf.layers.dense({
        units,
        activation: last ? "softmax" : "relu",
        kernelInitializer,
        biasInitializer: "zeros",
        ...(i === 0 && parsed.architecture === "mlp" ? { inputShape: [INPUT_SIZE] } : {}),
      }),
    );
    if (parsed.architecture === "dense_dropout" && !last) {
      model.add(new SeededDropout(DENSE_DROPOUT_RATE, seeds?.[widths.length + i]));
    }
  });
  return model;
}

/** Returns copies of the model's dense layer weights under their stable names. */
export function getModelWeights(model: tf.LayersModel): Weights {
  const weights: Weights = [];
  for (const [i, layer] of denseLayers(model).entries()) {
    const [kernel, bias] = layer.getWeights();
    weights.push({
      name: `dense_${i}/kernel`,
      shape: [...kernel.shape],
      data: Float32Array.from(kernel.dataSync() as Float32Array),
    });
    weights.push({
      name: `dense_${i}/bias`,
      shape: [...bias.shape],
      data: Float32Array.from(bias.dataSync() as Float32Array),
    });
  }
  return weights;
}

/**
 * Loads `weights` into the model's dense layers. Throws LayoutMismatchError (from
 * assertSameLayout) unless the names, order and shapes equal the model's own layout.
 */
export function setModelWeights(model: tf.LayersModel, weights: Weights): void {
  const layers = denseLayers(model);
  assertSameLayout(weights, layoutOf(layers), "weights");
  layers.forEach((layer, i) => {
    const kernel = weights[2 * i];
    const bias = weights[2 * i + 1];
    const values = [tf.tensor(kernel.data, kernel.shape), tf.tensor(bias.data, bias.shape)];
    layer.setWeights(values);
    tf.dispose(values);
  });
}

/**
 * Returns deterministic initial weights for `spec`: Glorot-uniform kernels (seeded per layer from
 * `seed`) and zero biases, the Keras defaults for dense layers. The same seed gives the same
 * weights, bit for bit, on every backend, because TensorFlow.js draws seeded uniform values in
 * JavaScript.
 */
export function initialWeights(spec: ModelSpecInput, seed: number): Weights {
  const parsed: ModelSpec = parseModelSpec(spec);
  assertSeed(seed, "seed");
  const seeds = derivedSeeds(seed, denseLayerWidths(parsed).length);
  const manifest = manifestForSpec(parsed);
  return manifest.map((tensorSpec, k) => {
    if (k % 2 === 1) {
      return {
        ...tensorSpec,
        shape: [...tensorSpec.shape],
        data: new Float32Array(tensorSpec.shape[0]),
      };
    }
    const initializer = tf.initializers.glorotUniform({ seed: seeds[k / 2] });
    const values = initializer.apply(tensorSpec.shape, "float32");
    const data = Float32Array.from(values.dataSync() as Float32Array);
    values.dispose();
    return { ...tensorSpec, shape: [...tensorSpec.shape], data };
  });
}

/** Dropout whose mask for the n-th training batch is seeded with seed + n. */
class SeededDropout extends tf.layers.Layer {
  static readonly className = "QsflSeededDropout";
  private step = 0;

  constructor(
    private readonly rate: number,
    private readonly seed: number | undefined,
  ) {
    super({});
    if (!(rate >= 0 && rate < 1)) throw new RangeError(`rate: expected [0, 1), got ${rate}`);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate === 0) return input;
    const seed = this.seed === undefined ? undefined : this.seed + this.step;
    this.step++;
    return tf.tidy(() => tf.dropout(input, this.rate, undefined, seed));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed ?? null };
  }
}

tf.serialization.registerClass(SeededDropout);

function denseLayers(model: tf.LayersModel): tf.layers.Layer[] {
  if (model === null || typeof model !== "object" || !Array.isArray(model.layers)) {
    throw new TypeError("model: expected a TensorFlow.js LayersModel");
  }
  return model.layers.filter((layer) => layer.getClassName() === "Dense");
}

function layoutOf(layers: tf.layers.Layer[]): TensorSpec[] {
  return layers.flatMap((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    return [
      { name: `dense_${i}/kernel`, shape: [...kernel.shape] },
      { name: `dense_${i}/bias`, shape: [...bias.shape] },
    ];
  });
}

/**
 * Returns `count` seeds in [1, 2^31) drawn from `seed`: the first for the dense kernels in layer
 * order, the rest for the dropout layers. A longer list starts with the same seeds.
 */
function derivedSeeds(seed: number, count: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => 1 + random.int(0x7ffffffe));
}

function assertSeed(seed: number, argument: string): void {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`${argument}: expected a safe integer, got ${String(seed)}`);
  }
}
