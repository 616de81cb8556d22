import { describe, expect, it } from "vitest";
import {
  addTreeShapValues,
  bruteForceShapley,
  conditionalExpectation,
  forestTreeShap,
  IsolationForestDetector,
  type IsolationTree,
  scoreRound,
} from "@/lib/detection";
import { createRandom } from "@/lib/random";
import { syntheticRound } from "./synthetic-round";

/** Rows whose first three features take few values, so trees split on them repeatedly. */
function mixedRows(seed: number, count: number, features: number): number[][] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: features }, (_, j) =>
      j < 3 ? Math.round(random.gaussian() * 2) : random.gaussian() * (j + 1),
    ),
  );
}

function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

describe("TreeSHAP on isolation forests", () => {
  const rows = mixedRows(21, 200, 8);
  const detector = new IsolationForestDetector({ numTrees: 25, subsampleSize: 128, seed: 3 });
  detector.fit(rows);
  const probes = [rows[0], rows[1], rows[2], [9, -9, 0, 5, -5, 20, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0]];

  it("local accuracy", () => {
    for (const x of probes) {
      const result = forestTreeShap(detector, x);
      expect(result.output).toBeCloseTo(detector.expectedPathLength(x), 12);
      expect(Math.abs(result.expectedValue + sum(result.shapValues) - result.output)).toBeLessThan(
        1e-9,
      );
    }
  });

  it("equals brute-force Shapley values", () => {
    for (const x of probes) {
      const fast = forestTreeShap(detector, x).shapValues;
      const exact = bruteForceShapley(detector, x);
      for (let j = 0; j < exact.length; j++) {
        expect(Math.abs(fast[j] - exact[j]), `feature ${j}`).toBeLessThan(1e-9);
      }
    }
  });

  it("trees repeat features on a path", () => {
    const repeats = detector.trees.some((tree) => {
      const seen = (node: number, above: Set<number>): boolean => {
        const feature = tree.feature[node];
        if (feature < 0) return false;
        if (above.has(feature)) return true;
        const next = new Set(above).add(feature);
        return seen(tree.left[node], next) || seen(tree.right[node], next);
      };
      return seen(0, new Set());
    });
    expect(repeats).toBe(true);
  });

  it("equals brute force on a round detector forest", () => {
    const round = syntheticRound(createRandom(4), { honest: 8, attackers: 2, attack: "sign_flip" });
    const scores = scoreRound(round, {
      detectorFeatures: [
        "global.l2_norm_ratio",
        "global.cosine_to_median",
        "global.distance_to_median_ratio",
        "global.sign_agreement",
        "global.max_abs_ratio",
        "global.mad_outlier_fraction",
        "layer_0.cosine_to_median",
        "layer_0.l2_norm_ratio",
        "layer_2.cosine_to_median",
        "layer_2.l2_norm_ratio",
      ],
      numTrees: 40,
    });
    for (const result of [scores.results[0], scores.results[9]]) {
      const fast = forestTreeShap(scores.detector, result.features).shapValues;
      const exact = bruteForceShapley(scores.detector, result.features);
      for (let j = 0; j < exact.length; j++)
        expect(Math.abs(fast[j] - exact[j])).toBeLessThan(1e-9);
    }
  });

  it("single split tree by hand", () => {
    // Root splits feature 1 at 0.5: the left leaf has 3 rows at depth 1, the right leaf 1 row.
    const tree: IsolationTree = {
      feature: Int32Array.from([1, -1, -1]),
      threshold: Float64Array.from([0.5, 0, 0]),
      left: Int32Array.from([1, -1, -1]),
      right: Int32Array.from([2, -1, -1]),
      cover: Int32Array.from([4, 3, 1]),
      depth: Int32Array.from([0, 1, 1]),
      value: Float64Array.from([0, 1 + 2.5, 1]),
    };
    tree.value[0] = (3 * tree.value[1] + 1 * tree.value[2]) / 4;
    const phi = new Float64Array(3);
    addTreeShapValues(tree, [0, 2, 0], phi);
    expect(phi[0]).toBe(0);
    expect(phi[2]).toBe(0);
    expect(phi[1]).toBeCloseTo(1 - tree.value[0], 14);
    expect(conditionalExpectation(tree, [0, 2, 0], new Set())).toBeCloseTo(tree.value[0], 14);
    expect(conditionalExpectation(tree, [0, 2, 0], new Set([1]))).toBe(1);
  });

  it("rejects wrong rows", () => {
    expect(() => forestTreeShap(detector, [1, 2])).toThrow(/row has 2 features, expected 8/);
    expect(() => forestTreeShap(new IsolationForestDetector(), [1, 2])).toThrow(/not fitted/);
  });
});
