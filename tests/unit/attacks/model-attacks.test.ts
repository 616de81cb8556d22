import { describe, expect, it } from "vitest";
import { l2Norm } from "@/lib/aggregation";
import {
  AttackError,
  aLittleIsEnough,
  alieZ,
  colludingSybils,
  coordinateMoments,
  freeRider,
  gaussianNoise,
  innerProductManipulation,
  inverseNormalCdf,
  minMax,
  minSum,
  modelReplacement,
  normalCdf,
  scaleDelta,
  signFlip,
} from "@/lib/attacks";
import { createRandom } from "@/lib/random";

function randomVector(d: number, random: ReturnType<typeof createRandom>, scale = 1): Float32Array {
  return Float32Array.from({ length: d }, () => scale * random.gaussian());
}

/** Honest deltas around a shared direction, as trained clients produce. */
function honestRound(k: number, d: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  const direction = randomVector(d, random, 0.5);
  return Array.from({ length: k }, () => {
    const delta = randomVector(d, random, 0.2);
    for (let j = 0; j < d; j++) delta[j] += direction[j];
    return delta;
  });
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += (a[j] - b[j]) ** 2;
  return sum;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j] * b[j];
  return sum;
}

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i];
  mean /= values.length;
  let variance = 0;
  for (let i = 0; i < values.length; i++) variance += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(variance / values.length) };
}

describe("signFlip", () => {
  it("negates the delta", () => {
    const delta = Float32Array.from([1, -2, 0.5]);
    expect(Array.from(signFlip(delta))).toEqual([-1, 2, -0.5]);
  });

  it("scales after negating", () => {
    expect(Array.from(signFlip(Float32Array.from([1, -2]), 3))).toEqual([-3, 6]);
  });

  it("rejects a scale that is not positive", () => {
    expect(() => signFlip(Float32Array.from([1]), 0)).toThrow(
      /scale must be a finite number > 0, got 0/,
    );
  });
});

describe("scaleDelta", () => {
  it("multiplies the norm by lambda", () => {
    const delta = randomVector(1000, createRandom(1));
    expect(l2Norm(scaleDelta(delta, 7))).toBeCloseTo(7 * l2Norm(delta), 3);
  });
});

describe("gaussianNoise", () => {
  it("adds noise of the given sigma", () => {
    const delta = new Float32Array(20_000).fill(2);
    const noisy = gaussianNoise(delta, 0.3, 5);
    const noise = noisy.map((v) => v - 2);
    const { mean, std } = stats(noise);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.29);
    expect(std).toBeLessThan(0.31);
  });

  it("submits only the noise on replace", () => {
    const noisy = gaussianNoise(new Float32Array(20_000).fill(100), 1, 5, true);
    expect(Math.abs(stats(noisy).mean)).toBeLessThan(0.05);
  });

  it("repeats for one seed and differs across seeds", () => {
    const delta = new Float32Array(100);
    expect(gaussianNoise(delta, 1, 9)).toEqual(gaussianNoise(delta, 1, 9));
    expect(gaussianNoise(delta, 1, 9)).not.toEqual(gaussianNoise(delta, 1, 10));
  });
});

describe("normal distribution", () => {
  it("matches tabulated values", () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 12);
    expect(normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 12);
    expect(inverseNormalCdf(0.975)).toBeCloseTo(1.959963984540054, 9);
    expect(inverseNormalCdf(0.68)).toBeCloseTo(0.4676987991145084, 9);
  });

  it("rejects p outside (0, 1)", () => {
    expect(() => inverseNormalCdf(1)).toThrow(/p must be a probability in \(0, 1\), got 1/);
  });
});

describe("aLittleIsEnough", () => {
  it("computes z from n and f", () => {
    // n = 50, f = 10: s = floor(26) - 10 = 16, z = Phi^-1((50 - 16) / 50) = Phi^-1(0.68).
    expect(alieZ(50, 10)).toBeCloseTo(0.4676987991145084, 9);
  });

  it("rejects f that already holds a majority", () => {
    expect(() => alieZ(10, 6)).toThrow(/needs floor\(n \/ 2 \+ 1\) - f >= 1, got n = 10, f = 6/);
  });

  it("stays within z standard deviations", () => {
    const honest = honestRound(20, 500, 3);
    const { mean, std } = coordinateMoments(honest);
    const { delta, z } = aLittleIsEnough(honest, { numClients: 25, numMalicious: 5 });
    expect(z).toBeCloseTo(alieZ(25, 5), 12);
    for (let j = 0; j < delta.length; j++) {
      expect(Math.abs(delta[j] - mean[j])).toBeLessThanOrEqual(z * std[j] + 1e-6);
      // The attack sits on the lower edge of the band, not inside it.
      expect(delta[j]).toBeCloseTo(mean[j] - z * std[j], 5);
    }
  });

  it("takes a given z", () => {
    const honest = [Float32Array.from([0, 10]), Float32Array.from([2, 10])];
    // Mean [1, 10], std [1, 0].
    expect(Array.from(aLittleIsEnough(honest, { z: 1.5 }).delta)).toEqual([-0.5, 10]);
  });

  it("needs z or n and f", () => {
    expect(() => aLittleIsEnough(honestRound(3, 4, 1), {})).toThrow(
      /needs z, or numClients and numMalicious/,
    );
  });
});

describe("innerProductManipulation", () => {
  it("has a negative inner product with the honest mean", () => {
    const honest = honestRound(10, 300, 4);
    const { mean } = coordinateMoments(honest);
    const delta = innerProductManipulation(honest, 0.5);
    expect(dot(delta, mean)).toBeLessThan(0);
    expect(dot(delta, mean)).toBeCloseTo(-0.5 * dot(mean, mean), 2);
  });
});

describe("minMax", () => {
  for (const direction of ["unit", "std", "sign"] as const) {
    it(`keeps the max distance within the honest max (${direction})`, () => {
      const honest = honestRound(12, 400, 7);
      const result = minMax(honest, { direction });
      let honestMax = 0;
      for (const a of honest)
        for (const b of honest) honestMax = Math.max(honestMax, squaredDistance(a, b));
      const attackMax = Math.max(...honest.map((h) => squaredDistance(result.delta, h)));
      expect(attackMax).toBeLessThanOrEqual(honestMax * (1 + 1e-6));
      // Gamma is the largest that fits: the distance sits at the bound, not far inside it.
      expect(attackMax).toBeGreaterThan(honestMax * 0.999);
      expect(result.gamma).toBeGreaterThan(0);
      expect(result.threshold).toBeCloseTo(honestMax, 3);
    });
  }

  it("moves away from the honest mean", () => {
    const honest = honestRound(12, 400, 7);
    const { mean } = coordinateMoments(honest);
    const result = minMax(honest, { direction: "unit" });
    const shift = Float64Array.from(result.delta, (v, j) => v - mean[j]);
    expect(dot(shift, mean)).toBeLessThan(0);
  });

  it("rejects a zero perturbation", () => {
    const same = [Float32Array.from([1, 2]), Float32Array.from([1, 2])];
    expect(() => minMax(same, { direction: "std" })).toThrow(AttackError);
  });
});

describe("minSum", () => {
  for (const direction of ["unit", "std", "sign"] as const) {
    it(`keeps the distance sum within the honest max sum (${direction})`, () => {
      const honest = honestRound(12, 400, 8);
      const result = minSum(honest, { direction });
      const honestMaxSum = Math.max(
        ...honest.map((a) => honest.reduce((sum, b) => sum + squaredDistance(a, b), 0)),
      );
      const attackSum = honest.reduce((sum, h) => sum + squaredDistance(result.delta, h), 0);
      expect(attackSum).toBeLessThanOrEqual(honestMaxSum * (1 + 1e-6));
      expect(attackSum).toBeGreaterThan(honestMaxSum * 0.999);
      expect(result.gamma).toBeGreaterThan(0);
    });
  }
});

describe("modelReplacement", () => {
  it("scales the backdoored delta by n / eta", () => {
    const delta = Float32Array.from([0.1, -0.2]);
    expect(Array.from(modelReplacement(delta, 10, 2))).toEqual([0.5, -1].map(Math.fround));
  });
});

describe("colludingSybils", () => {
  it("returns near-identical distinct deltas", () => {
    const base = randomVector(1000, createRandom(2));
    const sybils = colludingSybils(base, 5, 1e-5, 11);
    expect(sybils).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      for (let j = i + 1; j < 5; j++) {
        const distance = Math.sqrt(squaredDistance(sybils[i], sybils[j]));
        expect(distance).toBeGreaterThan(0);
        // Two draws of sigma noise over 1000 values: about sigma * sqrt(2000) = 4.5e-4.
        expect(distance).toBeLessThan(1e-3);
      }
    }
  });

  it("repeats for one seed", () => {
    const base = Float32Array.from([1, 2, 3]);
    expect(colludingSybils(base, 3, 1e-3, 4)).toEqual(colludingSybils(base, 3, 1e-3, 4));
  });
});

describe("freeRider", () => {
  it("returns the global model within the noise", () => {
    const global = randomVector(20_000, createRandom(6));
    const weights = freeRider(global, 1e-3, 3);
    const noise = weights.map((v, j) => v - global[j]);
    const { mean, std } = stats(noise);
    expect(Math.max(...noise.map(Math.abs))).toBeLessThan(6e-3);
    expect(Math.abs(mean)).toBeLessThan(5e-5);
    expect(std).toBeGreaterThan(0.95e-3);
    expect(std).toBeLessThan(1.05e-3);
  });
});
