import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildModel,
  getModelWeights,
  initialWeights,
  initTensorFlow,
  ModelSpecError,
  manifestForSpec,
  parseModelSpec,
  setModelWeights,
} from "@/lib/ml";
import { LayoutMismatchError, manifestOf } from "@/lib/tensors";
import { firstDifference } from "./weights-diff";

const MLP = { architecture: "mlp" } as const;
const DENSE_DROPOUT = { architecture: "dense_dropout" } as const;

beforeAll(async () => {
  expect(await initTensorFlow()).toBe("wasm");
});

describe("parseModelSpec", () => {
  it("fills in the defaults", () => {
    expect(parseModelSpec(MLP)).toEqual({
      architecture: "mlp",
      hidden: [128],
      optimizer: "adam",
      learningRate: 0.001,
      batchSize: 32,
      localEpochs: 1,
    });
    expect(parseModelSpec({ architecture: "dense_dropout", localEpochs: 2 }).localEpochs).toBe(2);
  });

  it("names the invalid field", () => {
    expect(() => parseModelSpec({ architecture: "cnn" })).toThrow(ModelSpecError);
    expect(() => parseModelSpec({ architecture: "mlp", learningRate: -1 })).toThrow(
      /modelSpec\.learningRate/,
    );
    expect(() => parseModelSpec({ architecture: "mlp", hidden: [0] })).toThrow(
      /modelSpec\.hidden\.0/,
    );
    expect(() => parseModelSpec({ architecture: "dense_dropout", hidden: [32] })).toThrow(
      ModelSpecError,
    );
    expect(() => parseModelSpec({ kind: "test" })).toThrow(/expected \{ architecture: "mlp"/);
  });
});

describe("model layout", () => {
  it("mlp manifest is 784-128-10", () => {
    expect(manifestForSpec(MLP)).toEqual([
      { name: "dense_0/kernel", shape: [784, 128] },
      { name: "dense_0/bias", shape: [128] },
      { name: "dense_1/kernel", shape: [128, 10] },
      { name: "dense_1/bias", shape: [10] },
    ]);
  });

  it("dense_dropout manifest is 784-128-64-10", () => {
    expect(manifestForSpec(DENSE_DROPOUT).map((t) => t.shape)).toEqual([
      [784, 128],
      [128],
      [128, 64],
      [64],
      [64, 10],
      [10],
    ]);
  });

  it("names stay stable across builds", () => {
    for (const spec of [MLP, DENSE_DROPOUT, { architecture: "mlp" as const, hidden: [32, 16] }]) {
      const first = buildModel(spec);
      const second = buildModel(spec);
      // TensorFlow.js names carry a process-wide counter, so its own names differ.
      expect(first.layers[0].name).not.toBe(second.layers[0].name);
      expect(manifestOf(getModelWeights(first))).toEqual(manifestOf(getModelWeights(second)));
      expect(manifestOf(getModelWeights(first))).toEqual(manifestForSpec(spec));
      first.dispose();
      second.dispose();
    }
  });

  it("setModelWeights and getModelWeights round trip", () => {
    const model = buildModel(DENSE_DROPOUT);
    const weights = initialWeights(DENSE_DROPOUT, 11);
    weights[1].data.fill(0.25);
    setModelWeights(model, weights);
    const read = getModelWeights(model);
    expect(firstDifference(read, weights)).toBeNull();
    read[0].data[0] += 1;
    expect(getModelWeights(model)[0].data[0]).toBe(weights[0].data[0]);
    model.dispose();
  });

  it("setModelWeights rejects another layout", () => {
    const model = buildModel(MLP);
    const wrongShape = initialWeights({ architecture: "mlp", hidden: [64] }, 1);
    expect(() => setModelWeights(model, wrongShape)).toThrow(LayoutMismatchError);
    expect(() => setModelWeights(model, wrongShape)).toThrow(
      /tensor "dense_0\/kernel" has shape \[784, 64\], expected \[784, 128\]/,
    );
    const renamed = initialWeights(MLP, 1).map((t) => ({ ...t, name: t.name.replace("_", "-") }));
    expect(() => setModelWeights(model, renamed)).toThrow(/named "dense-0\/kernel"/);
    model.dispose();
  });

  it("dropout masks change per batch", () => {
    const masks = (seed: number) => {
      const model = buildModel(DENSE_DROPOUT, { seed });
      const dropout = model.layers.find((layer) => layer.getClassName() === "QsflSeededDropout");
      if (!dropout) throw new Error("dense_dropout has no dropout layer");
      const ones = tf.ones([4, 128]);
      const outputs = [0, 1, 2].map(() => {
        const output = dropout.apply(ones, { training: true }) as tf.Tensor;
        const values = Array.from(output.dataSync());
        output.dispose();
        return values;
      });
      const inference = dropout.apply(ones, { training: false }) as tf.Tensor;
      const unchanged = Array.from(inference.dataSync()).every((value) => value === 1);
      ones.dispose();
      model.dispose();
      return { outputs, unchanged };
    };
    const first = masks(3);
    const zeros = first.outputs[0].filter((value) => value === 0).length;
    expect(zeros).toBeGreaterThan(0.1 * 512);
    expect(zeros).toBeLessThan(0.3 * 512);
    expect(first.outputs[1]).not.toEqual(first.outputs[0]);
    expect(first.outputs[2]).not.toEqual(first.outputs[1]);
    expect(first.unchanged).toBe(true);
    expect(masks(3).outputs).toEqual(first.outputs);
  });

  it("leaves no tensors behind", () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const model = buildModel(DENSE_DROPOUT, { seed: i });
      setModelWeights(model, initialWeights(DENSE_DROPOUT, i));
      getModelWeights(model);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("initialWeights", () => {
  it("same seed gives same weights", () => {
    expect(firstDifference(initialWeights(MLP, 42), initialWeights(MLP, 42))).toBeNull();
  });

  it("other seed gives other weights", () => {
    const a = initialWeights(MLP, 42);
    const b = initialWeights(MLP, 43);
    expect(firstDifference(a, b)).toMatch(/^dense_0\/kernel\[0\] is /);
    expect(firstDifference(a.slice(2), b.slice(2))).toMatch(/^dense_1\/kernel\[0\] is /);
  });

  it("kernels are Glorot-uniform and biases zero", () => {
    const weights = initialWeights(MLP, 5);
    const limit = Math.sqrt(6 / (784 + 128));
    const kernel = weights[0].data;
    let max = 0;
    let sum = 0;
    for (const value of kernel) {
      max = Math.max(max, Math.abs(value));
      sum += value;
    }
    expect(max).toBeLessThanOrEqual(limit);
    expect(max).toBeGreaterThan(0.99 * limit);
    expect(Math.abs(sum / kernel.length)).toBeLessThan(0.01 * limit);
    expect(weights[1].data.every((value) => value === 0)).toBe(true);
  });

  it("matches a model built with the seed", () => {
    const model = buildModel(DENSE_DROPOUT, { seed: 9 });
    expect(firstDifference(getModelWeights(model), initialWeights(DENSE_DROPOUT, 9))).toBeNull();
    model.dispose();
  });

  it("rejects a non-integer seed", () => {
    expect(() => initialWeights(MLP, 1.5)).toThrow(/seed: expected a safe integer, got 1.5/);
  });
});
