import { describe, expect, it } from "vitest";
import {
  backdoorSuccessRate,
  buildTriggeredTestSet,
  flipLabels,
  poisonMaliciousClientLabels,
  poisonMaliciousClientWeights,
  poisonWithTrigger,
} from "@/lib/attacks";
import { createRandom } from "@/lib/random";

function randomLabels(count: number, seed: number): Int32Array {
  const random = createRandom(seed);
  return Int32Array.from({ length: count }, () => random.int(10));
}

/** Indices where two label arrays differ. */
function changedIndices(before: ArrayLike<number>, after: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) out.push(i);
  return out;
}

describe("flipLabels", () => {
  const labels = randomLabels(1000, 1);

  it("flips the stated fraction and only those", () => {
    const result = flipLabels(labels, { fraction: 0.2, seed: 3 });
    expect(result.poisonedIndices).toHaveLength(200);
    expect(changedIndices(labels, result.labels)).toEqual(Array.from(result.poisonedIndices));
  });

  it("moves each flipped label to another class", () => {
    const result = flipLabels(labels, { fraction: 0.5, seed: 3 });
    for (const i of result.poisonedIndices) {
      expect(result.labels[i]).not.toBe(labels[i]);
      expect(result.labels[i]).toBeGreaterThanOrEqual(0);
      expect(result.labels[i]).toBeLessThan(10);
    }
  });

  it("maps y to 9 - y in reverse mode", () => {
    const result = flipLabels(labels, { fraction: 0.3, seed: 4, mode: "reverse" });
    expect(result.poisonedIndices).toHaveLength(300);
    for (const i of result.poisonedIndices) expect(result.labels[i]).toBe(9 - labels[i]);
  });

  it("maps y to y + 1 mod 10 in next mode", () => {
    const result = flipLabels(labels, { fraction: 0.3, seed: 4, mode: "next" });
    for (const i of result.poisonedIndices) expect(result.labels[i]).toBe((labels[i] + 1) % 10);
  });

  it("keeps decimal fractions exact", () => {
    // 0.29 * 100 is 28.999999999999996 in float64.
    expect(
      flipLabels(randomLabels(100, 2), { fraction: 0.29, seed: 1 }).poisonedIndices,
    ).toHaveLength(29);
  });

  it("repeats for one seed and differs across seeds", () => {
    const a = flipLabels(labels, { fraction: 0.2, seed: 8 });
    expect(flipLabels(labels, { fraction: 0.2, seed: 8 })).toEqual(a);
    expect(flipLabels(labels, { fraction: 0.2, seed: 9 }).poisonedIndices).not.toEqual(
      a.poisonedIndices,
    );
  });

  it("leaves the input labels unchanged", () => {
    const copy = labels.slice();
    flipLabels(labels, { fraction: 1, seed: 1 });
    expect(labels).toEqual(copy);
  });

  it("rejects reverse mode for an odd class count", () => {
    expect(() =>
      flipLabels([0, 1, 2], { fraction: 1, seed: 1, mode: "reverse", numClasses: 3 }),
    ).toThrow(/mode "reverse" needs an even numClasses, got 3: class 1 would map to itself/);
  });

  it("rejects a label outside the classes", () => {
    expect(() => flipLabels([0, 10], { fraction: 1, seed: 1 })).toThrow(
      /labels\[1\] must be a class index in \[0, 9\], got 10/,
    );
  });
});

describe("poisonWithTrigger", () => {
  const count = 50;
  const images = new Float32Array(count * 28 * 28).fill(0.25);
  const labels = randomLabels(count, 5);

  it("sets exactly the pattern pixels and target labels", () => {
    const result = poisonWithTrigger(images, labels, { fraction: 0.2, targetClass: 7, seed: 2 });
    expect(result.poisonedIndices).toHaveLength(10);
    const poisoned = new Set(result.poisonedIndices);
    // Bottom-right 3 x 3 square of a 28 x 28 image: rows and columns 25..27.
    const pattern = new Set<number>();
    for (let r = 25; r < 28; r++) for (let c = 25; c < 28; c++) pattern.add(r * 28 + c);
    for (let i = 0; i < count; i++) {
      for (let p = 0; p < 784; p++) {
        const value = result.images[i * 784 + p];
        expect(value).toBe(poisoned.has(i) && pattern.has(p) ? 1 : 0.25);
      }
      expect(result.labels[i]).toBe(poisoned.has(i) ? 7 : labels[i]);
    }
  });

  it("places the trigger in the requested corner", () => {
    const one = new Float32Array(6 * 6 * 2);
    const result = poisonWithTrigger(one, [3], {
      fraction: 1,
      targetClass: 0,
      seed: 1,
      height: 6,
      width: 6,
      channels: 2,
      size: 2,
      corner: "top-left",
      margin: 1,
      value: 0.5,
    });
    const set: number[] = [];
    result.images.forEach((v, k) => {
      if (v !== 0) set.push(k);
    });
    // Pixels (1, 1), (1, 2), (2, 1), (2, 2), both channels each.
    expect(set).toEqual([14, 15, 16, 17, 26, 27, 28, 29]);
    expect(result.images[14]).toBe(0.5);
  });

  it("leaves the input images unchanged", () => {
    poisonWithTrigger(images, labels, { fraction: 1, targetClass: 7, seed: 2 });
    expect(images.every((v) => v === 0.25)).toBe(true);
  });

  it("rejects images of the wrong size", () => {
    expect(() =>
      poisonWithTrigger(new Float32Array(100), [1], { fraction: 1, targetClass: 0, seed: 1 }),
    ).toThrow(/images has 100 values, expected 1 samples x 28 x 28 x 1 = 784/);
  });

  it("rejects a trigger larger than the image", () => {
    expect(() =>
      poisonWithTrigger(new Float32Array(4), [1], {
        fraction: 1,
        targetClass: 0,
        seed: 1,
        height: 2,
        width: 2,
      }),
    ).toThrow(/a 3 x 3 trigger with margin 0 does not fit a 2 x 2 image/);
  });
});

describe("buildTriggeredTestSet", () => {
  it("stamps every sample outside the target class", () => {
    const images = new Float32Array(4 * 784);
    const result = buildTriggeredTestSet(images, [1, 7, 3, 7], { targetClass: 7 });
    expect(Array.from(result.sourceIndices)).toEqual([0, 2]);
    expect(Array.from(result.labels)).toEqual([7, 7]);
    expect(Array.from(result.originalLabels)).toEqual([1, 3]);
    expect(result.images).toHaveLength(2 * 784);
    for (const sample of [0, 1]) {
      const image = result.images.subarray(sample * 784, (sample + 1) * 784);
      expect(image.reduce((s, v) => s + v, 0)).toBe(9);
      expect(image[27 * 28 + 27]).toBe(1);
    }
  });

  it("measures backdoor success", () => {
    expect(backdoorSuccessRate([7, 7, 1, 7], 7)).toBe(0.75);
    expect(backdoorSuccessRate([], 7)).toBe(0);
  });
});

describe("malicious client", () => {
  it("flips 20% of labels to y + 1", () => {
    const labels = randomLabels(500, 6);
    const result = poisonMaliciousClientLabels(labels, { seed: 1 });
    expect(result.poisonedIndices).toHaveLength(100);
    expect(changedIndices(labels, result.labels)).toEqual(Array.from(result.poisonedIndices));
    for (const i of result.poisonedIndices) expect(result.labels[i]).toBe((labels[i] + 1) % 10);
  });

  it("scales weights by 1.5 and adds noise of sigma 0.05", () => {
    const random = createRandom(4);
    const trained = Float32Array.from({ length: 20_000 }, () => random.gaussian());
    const poisoned = poisonMaliciousClientWeights(trained, { seed: 1 });
    const noise = poisoned.map((v, j) => v - 1.5 * trained[j]);
    let mean = 0;
    for (const v of noise) mean += v;
    mean /= noise.length;
    let variance = 0;
    for (const v of noise) variance += (v - mean) ** 2;
    const std = Math.sqrt(variance / noise.length);
    expect(Math.abs(mean)).toBeLessThan(2e-3);
    expect(std).toBeGreaterThan(0.048);
    expect(std).toBeLessThan(0.052);
  });

  it("repeats for one seed", () => {
    const trained = Float32Array.from([1, 2, 3]);
    expect(poisonMaliciousClientWeights(trained, { seed: 3 })).toEqual(
      poisonMaliciousClientWeights(trained, { seed: 3 }),
    );
  });
});
