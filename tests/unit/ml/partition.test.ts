import { describe, expect, it } from "vitest";
import { partitionDirichlet, partitionIid, sampleDirichlet, sampleGamma } from "@/lib/ml";
import { createRandom } from "@/lib/random";

/** Checks that `parts` are disjoint, cover 0 to n - 1 and are each sorted ascending. */
function expectExactCover(parts: Int32Array[], n: number): void {
  const seen = new Uint8Array(n);
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      if (i > 0) expect(part[i]).toBeGreaterThan(part[i - 1]);
      seen[part[i]]++;
    }
  }
  expect(seen.every((count) => count === 1)).toBe(true);
}

/** Mean total variation distance between each part's label distribution and the global one. */
function meanLabelSkew(labels: Uint8Array, parts: Int32Array[]): number {
  const global = new Array(10).fill(0);
  for (const label of labels) global[label] += 1 / labels.length;
  let total = 0;
  for (const part of parts) {
    const local = new Array(10).fill(0);
    for (const i of part) local[labels[i]] += 1 / part.length;
    total += local.reduce((sum, p, c) => sum + Math.abs(p - global[c]), 0) / 2;
  }
  return total / parts.length;
}

const labels = Uint8Array.from({ length: 5000 }, (_, i) => i % 10);

describe("partitionIid", () => {
  it("splits into near-equal disjoint parts", () => {
    const parts = partitionIid(103, 10, 1);
    expect(parts.map((part) => part.length)).toEqual([11, 11, 11, 10, 10, 10, 10, 10, 10, 10]);
    expectExactCover(parts, 103);
  });

  it("same seed gives same split", () => {
    expect(partitionIid(500, 7, 3)).toEqual(partitionIid(500, 7, 3));
    expect(partitionIid(500, 7, 3)).not.toEqual(partitionIid(500, 7, 4));
  });

  it("rejects more parts than samples", () => {
    expect(() => partitionIid(3, 4, 1)).toThrow(/k: 4 clients need at least 4 samples, got n = 3/);
    expect(() => partitionIid(10, 0, 1)).toThrow(/k: expected an integer >= 1, got 0/);
  });
});

describe("partitionDirichlet", () => {
  it("covers every sample once", () => {
    for (const alpha of [0.05, 0.5, 100]) {
      const parts = partitionDirichlet(labels, 20, alpha, 7);
      expect(parts.length).toBe(20);
      expectExactCover(parts, labels.length);
    }
  });

  it("gives every client the minimum", () => {
    for (const alpha of [0.01, 0.1]) {
      const parts = partitionDirichlet(labels, 50, alpha, 2, { minSamples: 40 });
      expect(Math.min(...parts.map((part) => part.length))).toBeGreaterThanOrEqual(40);
      expectExactCover(parts, labels.length);
    }
    const defaults = partitionDirichlet(labels, 100, 0.01, 2);
    expect(Math.min(...defaults.map((part) => part.length))).toBeGreaterThanOrEqual(10);
  });

  it("same seed gives same split", () => {
    expect(partitionDirichlet(labels, 10, 0.3, 5)).toEqual(partitionDirichlet(labels, 10, 0.3, 5));
    expect(partitionDirichlet(labels, 10, 0.3, 5)).not.toEqual(
      partitionDirichlet(labels, 10, 0.3, 6),
    );
  });

  it("lower alpha gives more label skew", () => {
    const skew = (alpha: number) => {
      let total = 0;
      for (let seed = 0; seed < 5; seed++) {
        total += meanLabelSkew(labels, partitionDirichlet(labels, 10, alpha, seed)) / 5;
      }
      return total;
    };
    const strong = skew(0.1);
    const mild = skew(1);
    const nearIid = skew(100);
    expect(strong).toBeGreaterThan(0.5);
    expect(mild).toBeLessThan(strong);
    expect(nearIid).toBeLessThan(mild);
    expect(nearIid).toBeLessThan(0.1);
    const iid = partitionIid(labels.length, 10, 0);
    expect(meanLabelSkew(labels, iid)).toBeLessThan(0.1);
  });

  it("rejects impossible minimums", () => {
    expect(() => partitionDirichlet(labels.subarray(0, 50), 10, 1, 1)).toThrow(
      /50 samples cannot give 10 clients 10 samples each/,
    );
    expect(() => partitionDirichlet(labels, 10, 0, 1)).toThrow(
      /alpha: expected a finite number > 0, got 0/,
    );
    expect(() => partitionDirichlet([1, -1, 2], 1, 1, 1, { minSamples: 1 })).toThrow(
      /labels\[1\]: expected a class index >= 0, got -1/,
    );
  });
});

describe("gamma and Dirichlet sampling", () => {
  it("gamma has mean and variance equal to its shape", () => {
    for (const shape of [0.3, 1, 4.5]) {
      const random = createRandom(11);
      const n = 40_000;
      let sum = 0;
      let sumSquares = 0;
      for (let i = 0; i < n; i++) {
        const x = sampleGamma(shape, random);
        sum += x;
        sumSquares += x * x;
      }
      const mean = sum / n;
      const variance = sumSquares / n - mean * mean;
      expect(mean).toBeCloseTo(shape, 1);
      expect(Math.abs(variance - shape) / shape).toBeLessThan(0.08);
    }
  });

  it("Dirichlet draws sum to one even for tiny alpha", () => {
    const random = createRandom(3);
    for (const alpha of [0.001, 0.5, 50]) {
      const draw = sampleDirichlet(alpha, 30, random);
      expect(draw.every((p) => Number.isFinite(p) && p >= 0)).toBe(true);
      expect(draw.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 12);
    }
  });
});
