import { describe, expect, it } from "vitest";
import {
  ATTACK_NAMES,
  ATTACKS,
  applyDataAttack,
  applyModelAttack,
  type ModelAttackContext,
  resolveParameters,
} from "@/lib/attacks";
import { createRandom } from "@/lib/random";
import { flattenWeights, type Weights } from "@/lib/tensors";

function model(values: number[]): Weights {
  return [
    {
      name: "dense/kernel",
      shape: [values.length - 1],
      data: Float32Array.from(values.slice(0, -1)),
    },
    { name: "dense/bias", shape: [1], data: Float32Array.from(values.slice(-1)) },
  ];
}

function randomModel(random: ReturnType<typeof createRandom>, d: number): Weights {
  return model(Array.from({ length: d }, () => random.gaussian()));
}

function round(seed: number): ModelAttackContext {
  const random = createRandom(seed);
  const globalWeights = randomModel(random, 8);
  return {
    globalWeights,
    ownWeights: randomModel(random, 8),
    honestWeights: Array.from({ length: 6 }, () => randomModel(random, 8)),
    numClients: 8,
    numMalicious: 2,
  };
}

function flat(weights: Weights): number[] {
  return Array.from(flattenWeights(weights));
}

describe("ATTACKS", () => {
  it("applies every attack by name with its defaults", () => {
    const data = {
      images: new Float32Array(20 * 784),
      labels: Array.from({ length: 20 }, (_, i) => i % 10),
    };
    for (const name of ATTACK_NAMES) {
      const { kind } = ATTACKS[name];
      if (kind !== "model") {
        const result = applyDataAttack(name, data);
        expect(result.labels, name).toHaveLength(20);
        expect(result.poisonedIndices.length, name).toBeGreaterThan(0);
      }
      if (kind !== "data") {
        const result = applyModelAttack(name, round(1));
        expect(result.updates.length, name).toBeGreaterThan(0);
        for (const update of result.updates) {
          expect(
            update.map((t) => t.name),
            name,
          ).toEqual(["dense/kernel", "dense/bias"]);
          expect(flat(update).every(Number.isFinite), name).toBe(true);
        }
      }
    }
  });

  it("gives the same output for the same seed", () => {
    for (const name of ATTACK_NAMES) {
      if (ATTACKS[name].kind === "data") continue;
      const first = applyModelAttack(name, round(2), {});
      const second = applyModelAttack(name, round(2), {});
      expect(second.updates.map(flat), name).toEqual(first.updates.map(flat));
    }
  });

  it("works on the delta against the global model", () => {
    const context = round(3);
    const result = applyModelAttack("sign-flip", context);
    const global = flat(context.globalWeights);
    const own = flat(context.ownWeights as Weights);
    flat(result.updates[0]).forEach((value, j) => {
      expect(value).toBeCloseTo(global[j] - (own[j] - global[j]), 5);
    });
  });

  it("returns one update per Sybil", () => {
    expect(applyModelAttack("sybil", round(4)).updates).toHaveLength(2);
    expect(applyModelAttack("sybil", round(4), { count: 5 }).updates).toHaveLength(5);
  });

  it("reports the computed z and gamma", () => {
    expect(applyModelAttack("alie", round(5)).details.z).toBeGreaterThan(0);
    expect(applyModelAttack("min-max", round(5)).details.gamma).toBeGreaterThan(0);
  });

  it("composes the malicious client's two stages", () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 10);
    const data = applyDataAttack("malicious-client", { labels });
    expect(data.poisonedIndices).toHaveLength(10);
    for (const i of data.poisonedIndices) expect(data.labels[i]).toBe((labels[i] + 1) % 10);
    const context = round(6);
    const model = applyModelAttack("malicious-client", context, { sigma: 0 });
    expect(flat(model.updates[0])).toEqual(
      flat(context.ownWeights as Weights).map((v) => Math.fround(1.5 * v)),
    );
  });
});

describe("attack parameters", () => {
  it("merges defaults", () => {
    expect(resolveParameters("scaling", { lambda: 3 })).toEqual({ lambda: 3 });
    expect(resolveParameters("label-flip")).toEqual({
      fraction: 0.2,
      mode: "random",
      numClasses: 10,
      seed: 1,
    });
  });

  it("rejects an unknown attack", () => {
    expect(() => applyModelAttack("lie", round(1))).toThrow(
      /unknown attack "lie", expected one of sign-flip, scaling/,
    );
  });

  it("rejects an unknown parameter", () => {
    expect(() => applyModelAttack("scaling", round(1), { factor: 2 })).toThrow(
      /attack "scaling" has no parameter "factor", expected one of lambda/,
    );
  });

  it("rejects a parameter of the wrong type", () => {
    expect(() => applyModelAttack("scaling", round(1), { lambda: "big" })).toThrow(
      /parameter "lambda" must be a number, got "big"/,
    );
  });

  it("rejects a value outside the choices", () => {
    expect(() => applyModelAttack("min-max", round(1), { direction: "up" })).toThrow(
      /parameter "direction" must be one of unit, std, sign, got "up"/,
    );
  });

  it("rejects a stage the attack does not have", () => {
    expect(() => applyDataAttack("scaling", { labels: [1] })).toThrow(
      /is a model attack: use applyModelAttack/,
    );
    expect(() => applyModelAttack("label-flip", round(1))).toThrow(
      /is a data attack: use applyDataAttack/,
    );
  });

  it("names missing context", () => {
    const { honestWeights: _, ...context } = round(1);
    expect(() => applyModelAttack("ipm", context)).toThrow(/needs context.honestWeights/);
  });

  it("names an honest update with another layout", () => {
    const context = round(1);
    const honestWeights = [...(context.honestWeights as Weights[]), model([1, 2])];
    expect(() => applyModelAttack("alie", { ...context, honestWeights })).toThrow(
      /honestWeights\[6\]: tensor "dense\/kernel" has shape \[1\], expected \[7\]/,
    );
  });
});
