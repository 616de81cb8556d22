import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Dataset,
  evaluateModel,
  initialWeights,
  initTensorFlow,
  loadMnist,
  selectSamples,
  splitTrainValidation,
  trainLocal,
} from "@/lib/ml";
import { firstDifference } from "./weights-diff";

const MLP = { architecture: "mlp" } as const;
const DENSE_DROPOUT = { architecture: "dense_dropout" } as const;

let train: Dataset;
let validation: Dataset;

beforeAll(async () => {
  await initTensorFlow();
  const split = splitTrainValidation(loadMnist(), 0.1, 0);
  train = selectSamples(
    split.train,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  validation = split.validation;
});

describe("trainLocal", () => {
  it("raises mlp accuracy well above chance", async () => {
    const start = initialWeights(MLP, 1);
    const before = await evaluateModel(MLP, start, validation);
    expect(before.accuracy).toBeLessThan(0.3);

    const result = await trainLocal(MLP, start, train, { epochs: 2, seed: 1 });
    expect(result.numSamples).toBe(1000);
    expect(result.accuracy).toBeGreaterThan(0.7);
    expect(result.loss).toBeLessThan(before.loss);

    const after = await evaluateModel(MLP, result.weights, validation);
    expect(after.accuracy).toBeGreaterThan(0.7);
    expect(after.loss).toBeLessThan(before.loss);
  });

  it("trains dense_dropout too", async () => {
    const result = await trainLocal(DENSE_DROPOUT, initialWeights(DENSE_DROPOUT, 2), train, {
      epochs: 2,
      seed: 2,
    });
    const after = await evaluateModel(DENSE_DROPOUT, result.weights, validation);
    expect(after.accuracy).toBeGreaterThan(0.6);
  });

  it("same seed gives same weights", async () => {
    const subset = selectSamples(
      train,
      Array.from({ length: 200 }, (_, i) => i),
    );
    const start = initialWeights(DENSE_DROPOUT, 3);
    const a = await trainLocal(DENSE_DROPOUT, start, subset, { epochs: 1, seed: 8 });
    const b = await trainLocal(DENSE_DROPOUT, start, subset, { epochs: 1, seed: 8 });
    const c = await trainLocal(DENSE_DROPOUT, start, subset, { epochs: 1, seed: 9 });
    expect(firstDifference(b.weights, a.weights)).toBeNull();
    expect(firstDifference(c.weights, a.weights)).not.toBeNull();
  });

  it("does not modify the input weights", async () => {
    const start = initialWeights(MLP, 4);
    const copy = start.map((t) => ({ ...t, data: t.data.slice() }));
    await trainLocal(MLP, start, selectSamples(train, [0, 1, 2, 3]), { epochs: 1, seed: 1 });
    expect(firstDifference(start, copy)).toBeNull();
  });

  it("keeps tensor memory flat", async () => {
    const subset = selectSamples(
      train,
      Array.from({ length: 100 }, (_, i) => i),
    );
    const start = initialWeights(DENSE_DROPOUT, 5);
    await trainLocal(DENSE_DROPOUT, start, subset, { epochs: 1, seed: 1 });
    const before = tf.memory().numTensors;
    for (let round = 0; round < 4; round++) {
      const result = await trainLocal(DENSE_DROPOUT, start, subset, {
        epochs: 1,
        batchSize: 16,
        seed: round,
      });
      await evaluateModel(DENSE_DROPOUT, result.weights, subset);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects invalid input", async () => {
    const start = initialWeights(MLP, 1);
    await expect(trainLocal(MLP, start, train, { epochs: 0, seed: 1 })).rejects.toThrow(
      /options\.epochs: expected an integer >= 1, got 0/,
    );
    await expect(trainLocal(MLP, start, train, { seed: Number.NaN })).rejects.toThrow(
      /options\.seed/,
    );
    await expect(
      trainLocal(MLP, initialWeights(DENSE_DROPOUT, 1), train, { seed: 1 }),
    ).rejects.toThrow(/weights has 6 tensors, expected 4/);
    const broken = { images: new Float32Array(10), labels: new Uint8Array(1) };
    await expect(trainLocal(MLP, start, broken, { seed: 1 })).rejects.toThrow(
      /images has 10 values, expected 1 labels x 784/,
    );
  });

  it("reports a diverged model", async () => {
    const spec = { architecture: "mlp", optimizer: "sgd", learningRate: 10 } as const;
    const start = initialWeights(spec, 1).map((t) => ({ ...t, data: t.data.map((v) => v * 1e38) }));
    await expect(
      trainLocal(spec, start, selectSamples(train, [0, 1, 2, 3]), { epochs: 1, seed: 1 }),
    ).rejects.toThrow(/training diverged/);
  });
});
