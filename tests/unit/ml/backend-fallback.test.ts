import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { initialWeights, initTensorFlow, loadMnist, selectSamples, trainLocal } from "@/lib/ml";

// Vitest runs each test file in its own process, so this file's TensorFlow.js engine has not
// chosen a backend yet.
describe("initTensorFlow", () => {
  it("falls back to cpu when WASM fails", async () => {
    const warnings: Array<{ object: object; message: string }> = [];
    const logger = {
      warn: (object: object, message: string) => warnings.push({ object, message }),
    };
    const backend = await initTensorFlow({ logger, wasmPath: "/nonexistent/tfjs-wasm/" });
    expect(backend).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/WASM backend .* training on cpu/);
    expect(warnings[0].object).toMatchObject({ wasmPath: "/nonexistent/tfjs-wasm/" });

    expect(await initTensorFlow()).toBe("cpu");
    const spec = { architecture: "mlp" as const, hidden: [8] };
    const data = selectSamples(loadMnist(), [0, 1, 2, 3, 4, 5, 6, 7]);
    const result = await trainLocal(spec, initialWeights(spec, 1), data, { seed: 1 });
    expect(result.numSamples).toBe(8);
  });
});
