import { describe, expect, it } from "vitest";
import { clipDeltas, l2Norm } from "@/lib/aggregation";

function rows(...values: number[][]): Float32Array[] {
  return values.map((row) => Float32Array.from(row));
}

describe("l2Norm", () => {
  it("returns the Euclidean norm", () => {
    expect(l2Norm(Float32Array.from([3, 4]))).toBe(5);
    expect(l2Norm(Float32Array.from([2, 3, 6]))).toBe(7);
  });
});

describe("clipDeltas", () => {
  it("scales a long delta down to the fixed bound", () => {
    const result = clipDeltas(rows([3, 4], [0.3, 0.4]), { mode: "fixed", maxNorm: 1 });
    expect(Array.from(result.deltas[0])).toEqual([0.6, 0.8].map(Math.fround));
    expect(result.scales[0]).toBeCloseTo(0.2, 12);
    expect(Array.from(result.norms)).toEqual([5, l2Norm(Float32Array.from([0.3, 0.4]))]);
    expect(result.maxNorm).toBe(1);
  });

  it("keeps a short delta as the same array", () => {
    const deltas = rows([3, 4], [0.3, 0.4]);
    const result = clipDeltas(deltas, { mode: "fixed", maxNorm: 1 });
    expect(result.deltas[1]).toBe(deltas[1]);
    expect(result.scales[1]).toBe(1);
  });

  it("leaves the inputs unchanged", () => {
    const deltas = rows([3, 4]);
    clipDeltas(deltas, { mode: "fixed", maxNorm: 1 });
    expect(Array.from(deltas[0])).toEqual([3, 4]);
  });

  it("bounds by a multiple of the median norm", () => {
    // Norms 1, 2, 10: median 2, bound 1.5 * 2 = 3.
    const result = clipDeltas(rows([1, 0], [0, 2], [6, 8]), { mode: "adaptive", multiplier: 1.5 });
    expect(result.maxNorm).toBe(3);
    expect(Array.from(result.scales)).toEqual([1, 1, 0.3]);
    expect(l2Norm(result.deltas[2])).toBeCloseTo(3, 5);
  });

  it("takes the mean of the middle norms for an even count", () => {
    // Norms 1, 2, 4, 10: median 3.
    const result = clipDeltas(rows([1], [2], [4], [10]), { mode: "adaptive", multiplier: 1 });
    expect(result.maxNorm).toBe(3);
    expect(Array.from(result.deltas.map((d) => d[0]))).toEqual([1, 2, 3, 3]);
  });

  it("keeps zero deltas finite", () => {
    const result = clipDeltas(rows([0], [0], [5]), { mode: "adaptive", multiplier: 2 });
    expect(result.maxNorm).toBe(0);
    expect(Array.from(result.scales)).toEqual([1, 1, 0]);
    expect(Array.from(result.deltas.map((d) => d[0]))).toEqual([0, 0, 0]);
  });

  it("rejects a bound that is not positive", () => {
    expect(() => clipDeltas(rows([1]), { mode: "fixed", maxNorm: 0 })).toThrow(
      /clipping.maxNorm must be a finite number > 0, got 0/,
    );
    expect(() => clipDeltas(rows([1]), { mode: "adaptive", multiplier: -1 })).toThrow(
      /clipping.multiplier must be a finite number > 0, got -1/,
    );
  });

  it("names a NaN delta", () => {
    expect(() => clipDeltas(rows([1], [Number.NaN]), { mode: "fixed", maxNorm: 1 })).toThrow(
      /deltas\[1\]\[0\] is NaN/,
    );
  });
});
