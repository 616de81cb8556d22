import { describe, expect, it } from "vitest";
import { createRandom } from "@/lib/random";
import { assertSameLayout, flattenWeights, unflattenWeights } from "@/lib/tensors";

describe("tensors", () => {
  it("flatten and unflatten round trip", () => {
    const specs = [
      { name: "dense/kernel", shape: [2, 3] },
      { name: "dense/bias", shape: [3] },
    ];
    const flat = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const weights = unflattenWeights(flat, specs);
    expect(weights[1].data).toEqual(Float32Array.from([7, 8, 9]));
    expect(flattenWeights(weights)).toEqual(flat);
  });

  it("layout mismatch names owner and tensor", () => {
    const weights = [{ name: "dense/bias", shape: [2], data: new Float32Array(2) }];
    expect(() =>
      assertSameLayout(weights, [{ name: "dense/bias", shape: [3] }], "client-7"),
    ).toThrow(/client-7: tensor "dense\/bias" has shape \[2\], expected \[3\]/);
  });
});

describe("random", () => {
  it("same seed gives same stream", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    for (let i = 0; i < 100; i++) expect(a.next()).toBe(b.next());
  });

  it("gaussian has unit variance", () => {
    const random = createRandom(7);
    let sum = 0;
    let sumSquares = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = random.gaussian();
      sum += x;
      sumSquares += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sumSquares / n - 1)).toBeLessThan(0.05);
  });
});
