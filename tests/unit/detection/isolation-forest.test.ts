import { describe, expect, it } from "vitest";
import {
  averageUnsuccessfulSearchLength,
  IsolationForestDetector,
  type IsolationTree,
} from "@/lib/detection";
import { createRandom } from "@/lib/random";
import fixture from "../../fixtures/detection/sklearn-isolation-forest.json";

function ranks(values: ArrayLike<number>): Float64Array {
  const order = Array.from(values, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const out = new Float64Array(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    for (let k = start; k <= end; k++) out[order[k]] = (start + end) / 2;
    start = end + 1;
  }
  return out;
}

function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const mean = (n - 1) / 2;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < n; i++) {
    covariance += (ra[i] - mean) * (rb[i] - mean);
    varianceA += (ra[i] - mean) ** 2;
    varianceB += (rb[i] - mean) ** 2;
  }
  return covariance / Math.sqrt(varianceA * varianceB);
}

function topIndices(values: ArrayLike<number>, count: number): number[] {
  return Array.from(values, (_, i) => i)
    .sort((a, b) => values[b] - values[a])
    .slice(0, count);
}

function gaussianRows(seed: number, count: number, features: number): number[][] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: features }, () => random.gaussian()),
  );
}

function leafDepthsAreBounded(tree: IsolationTree, maxDepth: number): boolean {
  return Array.from(tree.depth).every((depth) => depth <= maxDepth);
}

describe("averageUnsuccessfulSearchLength", () => {
  it("matches c(n) of Liu, Ting and Zhou", () => {
    expect(averageUnsuccessfulSearchLength(0)).toBe(0);
    expect(averageUnsuccessfulSearchLength(1)).toBe(0);
    expect(averageUnsuccessfulSearchLength(2)).toBe(1);
    const euler = 0.5772156649015329;
    expect(averageUnsuccessfulSearchLength(256)).toBeCloseTo(
      2 * (Math.log(255) + euler) - (2 * 255) / 256,
      12,
    );
    expect(averageUnsuccessfulSearchLength(256)).toBeCloseTo(10.2448, 4);
  });
});

describe("IsolationForestDetector against scikit-learn", () => {
  const inputs = fixture.inputs as number[][];
  const reference = fixture.scores as number[];
  const outliers = (fixture.isOutlier as boolean[]).flatMap((flag, i) => (flag ? [i] : []));

  it("fixture puts the outliers on top", () => {
    expect(outliers.length).toBe(20);
    expect(topIndices(reference, 20).sort((a, b) => a - b)).toEqual(outliers);
  });

  for (const seed of [0, 1, 2]) {
    it(`rank correlation with seed ${seed}`, () => {
      const detector = new IsolationForestDetector({ numTrees: 200, subsampleSize: 256, seed });
      const scores = detector.fit(inputs).scoreSamples(inputs);
      expect(spearman(scores, reference)).toBeGreaterThanOrEqual(0.95);
      expect(topIndices(scores, 20).sort((a, b) => a - b)).toEqual(outliers);
      let meanDifference = 0;
      for (let i = 0; i < scores.length; i++) meanDifference += Math.abs(scores[i] - reference[i]);
      expect(meanDifference / scores.length).toBeLessThan(0.01);
    });
  }
});

describe("IsolationForestDetector", () => {
  const rows = gaussianRows(11, 300, 5);

  it("same seed gives same scores", () => {
    const a = new IsolationForestDetector({ seed: 4 }).fit(rows).scoreSamples(rows);
    const b = new IsolationForestDetector({ seed: 4 }).fit(rows).scoreSamples(rows);
    const c = new IsolationForestDetector({ seed: 5 }).fit(rows).scoreSamples(rows);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("scores lie in (0, 1) and far rows score high", () => {
    const detector = new IsolationForestDetector({ seed: 1 }).fit(rows);
    const scores = detector.scoreSamples(rows);
    for (const score of scores) {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
    }
    const far = [8, -8, 8, -8, 8];
    expect(detector.predictAnomalyScore(far)).toBeGreaterThan(0.7);
    expect(detector.isAnomalous(far)).toBe(true);
    expect(detector.isAnomalous([0, 0, 0, 0, 0])).toBe(false);
    expect(detector.predictAnomalyScore([0, 0, 0, 0, 0])).toBeLessThan(0.5);
  });

  it("score is 2^(-E[h] / c(psi))", () => {
    const detector = new IsolationForestDetector({ seed: 2, subsampleSize: 64 }).fit(rows);
    const x = rows[7];
    const pathLength = detector.expectedPathLength(x);
    expect(detector.sampleSize).toBe(64);
    expect(detector.predictAnomalyScore(x)).toBeCloseTo(
      2 ** (-pathLength / averageUnsuccessfulSearchLength(64)),
      14,
    );
  });

  it("trees follow the standard construction", () => {
    const detector = new IsolationForestDetector({ seed: 3, subsampleSize: 100, numTrees: 20 });
    detector.fit(rows);
    const maxDepth = Math.ceil(Math.log2(100));
    expect(detector.trees.length).toBe(20);
    for (const tree of detector.trees) {
      expect(tree.cover[0]).toBe(100);
      expect(leafDepthsAreBounded(tree, maxDepth)).toBe(true);
      for (let node = 0; node < tree.feature.length; node++) {
        if (tree.feature[node] < 0) {
          expect(tree.value[node]).toBeCloseTo(
            tree.depth[node] + averageUnsuccessfulSearchLength(tree.cover[node]),
            12,
          );
          // The rows are distinct, so a leaf above the depth limit contains a single row.
          if (tree.depth[node] < maxDepth) expect(tree.cover[node]).toBe(1);
        } else {
          const left = tree.left[node];
          const right = tree.right[node];
          expect(tree.cover[left] + tree.cover[right]).toBe(tree.cover[node]);
          expect(tree.depth[left]).toBe(tree.depth[node] + 1);
        }
      }
    }
  });

  it("never splits on a constant feature", () => {
    const withConstant = rows.map((row) => [row[0], 3, row[1]]);
    const detector = new IsolationForestDetector({ seed: 6, numTrees: 30 }).fit(withConstant);
    for (const tree of detector.trees) expect(Array.from(tree.feature)).not.toContain(1);
  });

  it("fits items through a features function", () => {
    const items = rows.map((features, i) => ({ id: `u${i}`, features }));
    const fromItems = new IsolationForestDetector({ seed: 8 }).fit(items, (item) => item.features);
    const fromRows = new IsolationForestDetector({ seed: 8 }).fit(rows);
    expect(Array.from(fromItems.scoreSamples(rows))).toEqual(
      Array.from(fromRows.scoreSamples(rows)),
    );
  });

  it("JSON round trip keeps scores", () => {
    const detector = new IsolationForestDetector({ seed: 9, numTrees: 25 }).fit(rows, {
      featureNames: ["a", "b", "c", "d", "e"],
    });
    const restored = IsolationForestDetector.fromJSON(
      JSON.parse(JSON.stringify(detector.toJSON())),
    );
    expect(restored.featureNames).toEqual(["a", "b", "c", "d", "e"]);
    expect(restored.options).toEqual(detector.options);
    expect(Array.from(restored.scoreSamples(rows))).toEqual(
      Array.from(detector.scoreSamples(rows)),
    );
  });

  it("fromJSON rejects a corrupt tree", () => {
    const json = new IsolationForestDetector({ seed: 9, numTrees: 2 }).fit(rows).toJSON();
    const badFeature = structuredClone(json);
    badFeature.trees[1].feature[0] = 7;
    expect(() => IsolationForestDetector.fromJSON(badFeature)).toThrow(
      /json.trees\[1\].feature\[0\] must be an integer in \[0, 4\], got 7/,
    );
    const badChild = structuredClone(json);
    badChild.trees[0].left[0] = 0;
    expect(() => IsolationForestDetector.fromJSON(badChild)).toThrow(/json.trees\[0\].left\[0\]/);
    expect(() => IsolationForestDetector.fromJSON({ ...json, format: 2 as 1 })).toThrow(
      /json.format must be 1, got 2/,
    );
  });

  it("rejects invalid input", () => {
    const detector = new IsolationForestDetector();
    expect(() => detector.predictAnomalyScore([1, 2])).toThrow(/not fitted/);
    expect(() => detector.fit([[1, 2]])).toThrow(/at least 2 feature rows, got 1/);
    expect(() => detector.fit([[1, 2], [3]])).toThrow(/rows\[1\] has 1 features, expected 2/);
    expect(() =>
      detector.fit([
        [1, 2],
        [3, Number.NaN],
      ]),
    ).toThrow(/rows\[1\]\[1\] must be a finite number, got NaN/);
    detector.fit([
      [1, 2],
      [3, 4],
      [5, 7],
    ]);
    expect(() => detector.predictAnomalyScore([1, 2, 3])).toThrow(/row has 3 features, expected 2/);
    expect(() => new IsolationForestDetector({ numTrees: 0 })).toThrow(
      /options.numTrees must be an integer >= 1, got 0/,
    );
    expect(() => new IsolationForestDetector({ threshold: 1 })).toThrow(
      /options.threshold must be a number in \(0, 1\), got 1/,
    );
    expect(() => new IsolationForestDetector({ subsampleSize: 1 })).toThrow(
      /options.subsampleSize must be an integer >= 2, got 1/,
    );
  });
});
