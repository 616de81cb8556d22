import { describe, expect, it } from "vitest";
import {
  computeRoundFeatures,
  describeFeatures,
  featureNamesFor,
  InvalidUpdateError,
  medianOf,
  type RoundInput,
} from "@/lib/detection";
import { createRandom } from "@/lib/random";
import type { Weights } from "@/lib/tensors";

const MANIFEST = [
  { name: "dense/kernel", shape: [2, 2] },
  { name: "dense/bias", shape: [2] },
];

function weightsOf(values: number[]): Weights {
  return [
    { name: "dense/kernel", shape: [2, 2], data: Float32Array.from(values.slice(0, 4)) },
    { name: "dense/bias", shape: [2], data: Float32Array.from(values.slice(4, 6)) },
  ];
}

/** Builds a round with zero global weights, so each update's weights are its delta. */
function roundOf(deltas: number[][], extra: Partial<RoundInput["updates"][number]>[] = []) {
  return {
    globalWeights: weightsOf([0, 0, 0, 0, 0, 0]),
    updates: deltas.map((delta, i) => ({
      clientId: `c${i}`,
      weights: weightsOf(delta),
      ...extra[i],
    })),
  };
}

function sortedMedian(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function column(result: ReturnType<typeof computeRoundFeatures>, name: string): number[] {
  const index = result.featureNames.indexOf(name);
  expect(index, `feature ${name}`).toBeGreaterThanOrEqual(0);
  return result.rows.map((row) => row[index]);
}

// Rounded to float32 like the deltas computed from float32 weights, so expected values match.
const DELTAS = [
  [1, 2, -1, 0.5, 0.1, -0.2],
  [1.2, 1.8, -0.8, 0.4, 0.2, -0.1],
  [0.9, 2.2, -1.1, 0.6, 0.1, -0.3],
  [-1, -2, 1, -0.5, -0.1, 0.2],
  [10, 20, -10, 5, 1, -2],
].map((delta) => delta.map(Math.fround));

describe("feature names and metadata", () => {
  it("names are stable strings", () => {
    expect(featureNamesFor(MANIFEST)).toEqual([
      "global.l2_norm",
      "global.l2_norm_ratio",
      "global.cosine_to_median",
      "global.distance_to_median_ratio",
      "global.cosine_to_previous",
      "global.sign_agreement",
      "global.max_abs",
      "global.max_abs_ratio",
      "global.mad_outlier_fraction",
      "layer_0.l2_norm",
      "layer_0.l2_norm_ratio",
      "layer_0.cosine_to_median",
      "layer_0.distance_to_median_ratio",
      "layer_0.mean",
      "layer_0.std",
      "layer_1.l2_norm",
      "layer_1.l2_norm_ratio",
      "layer_1.cosine_to_median",
      "layer_1.distance_to_median_ratio",
      "layer_1.mean",
      "layer_1.std",
      "reported.num_samples",
      "reported.loss",
    ]);
  });

  it("metadata keeps tensor names and trust", () => {
    const features = describeFeatures(MANIFEST);
    const bias = features.find((f) => f.name === "layer_1.std");
    expect(bias?.tensorName).toBe("dense/bias");
    expect(bias?.layerIndex).toBe(1);
    const untrusted = features.filter((f) => !f.trusted).map((f) => f.name);
    expect(untrusted).toEqual(["reported.num_samples", "reported.loss"]);
    const scaleInvariant = features.filter((f) => f.scaleInvariant).map((f) => f.name);
    expect(scaleInvariant).toContain("global.cosine_to_median");
    expect(scaleInvariant).not.toContain("global.l2_norm");
    expect(scaleInvariant).not.toContain("layer_0.mean");
  });
});

describe("computeRoundFeatures", () => {
  const result = computeRoundFeatures(roundOf(DELTAS));
  const median = [0, 1, 2, 3, 4, 5].map((j) => Math.fround(sortedMedian(DELTAS.map((d) => d[j]))));
  const norm = (v: number[]) => Math.hypot(...v);
  const dot = (a: number[], b: number[]) => a.reduce((sum, x, j) => sum + x * b[j], 0);

  it("deltas and median delta", () => {
    expect(Array.from(result.deltas[4])).toEqual(DELTAS[4]);
    expect(Array.from(result.medianDelta)).toEqual(median);
  });

  it("global norm and ratio to the round median", () => {
    const norms = DELTAS.map(norm);
    const l2 = column(result, "global.l2_norm");
    const ratios = column(result, "global.l2_norm_ratio");
    norms.forEach((expected, i) => {
      expect(l2[i]).toBeCloseTo(expected, 6);
      expect(ratios[i]).toBeCloseTo(expected / sortedMedian(norms), 6);
    });
  });

  it("cosine to the median delta", () => {
    const cosines = column(result, "global.cosine_to_median");
    DELTAS.forEach((d, i) => {
      expect(cosines[i]).toBeCloseTo(dot(d, median) / (norm(d) * norm(median)), 6);
    });
    expect(cosines[3]).toBeLessThan(-0.99);
    expect(cosines[4]).toBeGreaterThan(0.99);
  });

  it("distance to the median delta ratio", () => {
    const distances = DELTAS.map((d) => norm(d.map((v, j) => v - median[j])));
    const ratios = column(result, "global.distance_to_median_ratio");
    distances.forEach((expected, i) => {
      expect(ratios[i]).toBeCloseTo(expected / sortedMedian(distances), 9);
    });
  });

  it("sign agreement, max abs and its ratio", () => {
    expect(column(result, "global.sign_agreement")).toEqual([1, 1, 1, 0, 1]);
    const maxAbs = column(result, "global.max_abs");
    expect(maxAbs[4]).toBeCloseTo(20, 6);
    expect(maxAbs[1]).toBeCloseTo(1.8, 6);
    const ratio = column(result, "global.max_abs_ratio");
    expect(ratio[4]).toBeCloseTo(20 / 2, 5);
  });

  it("per-layer norm, ratio, cosine, mean and std", () => {
    const kernel = DELTAS.map((d) => d.slice(0, 4));
    const kernelMedian = median.slice(0, 4);
    const norms = kernel.map(norm);
    kernel.forEach((k, i) => {
      const mean = k.reduce((a, b) => a + b, 0) / 4;
      const variance = k.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
      expect(column(result, "layer_0.l2_norm")[i]).toBeCloseTo(norms[i], 5);
      expect(column(result, "layer_0.l2_norm_ratio")[i]).toBeCloseTo(
        norms[i] / sortedMedian(norms),
        5,
      );
      expect(column(result, "layer_0.cosine_to_median")[i]).toBeCloseTo(
        dot(k, kernelMedian) / (norms[i] * norm(kernelMedian)),
        5,
      );
      expect(column(result, "layer_0.mean")[i]).toBeCloseTo(mean, 6);
      expect(column(result, "layer_0.std")[i]).toBeCloseTo(Math.sqrt(variance), 5);
    });
  });

  it("MAD outlier fraction per coordinate", () => {
    const n = DELTAS.length;
    const expected = DELTAS.map((d) => {
      let outliers = 0;
      d.forEach((v, j) => {
        const mad = Math.fround(
          sortedMedian(DELTAS.map((other) => Math.abs(other[j] - median[j]))),
        );
        if (Math.abs(v - median[j]) > 3 * 1.4826 * mad) outliers++;
      });
      return outliers / 6;
    });
    expect(n).toBe(5);
    const fractions = column(result, "global.mad_outlier_fraction");
    expect(fractions).toEqual(expected);
    expect(fractions[4]).toBe(1);
    expect(fractions[0]).toBe(0);
  });

  it("MAD of zero falls back to the layer mean", () => {
    // Coordinate 0 is equal for three of five clients, so its MAD is 0. Client 3 differs by 0.01.
    const deltas = [
      [1, 1, 2, 3, 1, 1],
      [1, 1.5, 2.5, 3.5, 1, 1],
      [1, 0.5, 1.5, 2.5, 1, 1],
      [1.01, 1.2, 2.2, 3.2, 1, 1],
      [0.99, 0.8, 1.8, 2.8, 1, 1],
    ];
    const fractions = column(computeRoundFeatures(roundOf(deltas)), "global.mad_outlier_fraction");
    expect(fractions[3]).toBe(0);
  });

  it("madThreshold sets k", () => {
    const loose = column(
      computeRoundFeatures(roundOf(DELTAS), { madThreshold: 1000 }),
      "global.mad_outlier_fraction",
    );
    expect(loose[4]).toBe(0);
  });

  it("cosine to previous delta and imputation", () => {
    const previous = Float32Array.from([1, 2, -1, 0.5, 0.1, -0.2]);
    const withPrevious = computeRoundFeatures(
      roundOf(DELTAS, [
        { previousDelta: previous },
        {},
        { previousDelta: weightsOf([-1, -2, 1, -0.5, -0.1, 0.2]) },
      ]),
    );
    const cosines = column(withPrevious, "global.cosine_to_previous");
    expect(cosines[0]).toBeCloseTo(1, 6);
    expect(cosines[2]).toBeCloseTo(
      -dot(DELTAS[2], DELTAS[0]) / (norm(DELTAS[2]) * norm(DELTAS[0])),
      6,
    );
    // Clients without a previous delta get the median of the available cosines.
    expect(cosines[1]).toBeCloseTo((cosines[0] + cosines[2]) / 2, 12);
    expect(withPrevious.previousDeltaMissing).toEqual([false, true, false, true, true]);
    expect(column(result, "global.cosine_to_previous")).toEqual([0, 0, 0, 0, 0]);
  });

  it("reported values are imputed with the median", () => {
    const reported = computeRoundFeatures(
      roundOf(DELTAS, [{ numSamples: 100, loss: 0.5 }, { numSamples: 300 }, { loss: 0.7 }]),
    );
    expect(column(reported, "reported.num_samples")).toEqual([100, 300, 200, 200, 200]);
    expect(column(reported, "reported.loss")).toEqual([0.5, 0.6, 0.7, 0.6, 0.6]);
    expect(reported.reportedMissing).toEqual([false, true, true, true, true]);
  });

  it("a single update is its own median", () => {
    const single = computeRoundFeatures(roundOf([DELTAS[0]]));
    expect(column(single, "global.cosine_to_median")[0]).toBeCloseTo(1, 12);
    expect(column(single, "global.l2_norm_ratio")[0]).toBe(1);
    expect(column(single, "global.mad_outlier_fraction")[0]).toBe(0);
  });

  it("zero deltas give neutral values", () => {
    const zeros = computeRoundFeatures(
      roundOf([
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
      ]),
    );
    expect(column(zeros, "global.cosine_to_median")).toEqual([0, 0]);
    expect(column(zeros, "global.l2_norm_ratio")).toEqual([1, 1]);
    expect(column(zeros, "global.sign_agreement")).toEqual([1, 1]);
  });
});

describe("computeRoundFeatures input checks", () => {
  it("rejects a non-finite weight naming the client", () => {
    const round = roundOf(DELTAS);
    round.updates[2].weights[1].data[0] = Number.NaN;
    expect(() => computeRoundFeatures(round)).toThrow(InvalidUpdateError);
    expect(() => computeRoundFeatures(round)).toThrow(
      /client c2: tensor "dense\/bias"\[0\] must be finite, got NaN/,
    );
  });

  it("rejects a duplicate client", () => {
    const round = roundOf(DELTAS);
    round.updates[1].clientId = "c0";
    expect(() => computeRoundFeatures(round)).toThrow(/client c0 sent more than one update/);
  });

  it("rejects a layout mismatch", () => {
    const round = roundOf(DELTAS);
    round.updates[3].weights[1] = { name: "dense/bias", shape: [3], data: new Float32Array(3) };
    expect(() => computeRoundFeatures(round)).toThrow(
      /client c3: tensor "dense\/bias" has shape \[3\]/,
    );
  });

  it("rejects empty rounds and bad options", () => {
    expect(() =>
      computeRoundFeatures({ globalWeights: weightsOf([0, 0, 0, 0, 0, 0]), updates: [] }),
    ).toThrow(/round.updates must contain at least one update/);
    expect(() => computeRoundFeatures(roundOf(DELTAS), { madThreshold: 0 })).toThrow(
      /options.madThreshold must be a number in \(0, Infinity\), got 0/,
    );
  });

  it("rejects bad reported values and previous deltas", () => {
    expect(() => computeRoundFeatures(roundOf(DELTAS, [{ numSamples: -1 }]))).toThrow(
      /client c0: numSamples must be a finite number >= 0, got -1/,
    );
    expect(() =>
      computeRoundFeatures(roundOf(DELTAS, [{ previousDelta: new Float32Array(5) }])),
    ).toThrow(/client c0: previousDelta has 5 values, expected 6/);
  });
});

describe("medianOf", () => {
  it("matches a sort on random arrays", () => {
    const random = createRandom(5);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + random.int(40);
      const values = Array.from({ length: n }, () => Math.round(random.gaussian() * 3) + 0);
      expect(medianOf(values)).toBe(sortedMedian(values));
    }
  });
});
