import { describe, expect, it } from "vitest";
import {
  AggregationError,
  bulyan,
  coordinateMedian,
  krum,
  krumScores,
  multiKrum,
  pairwiseSquaredDistances,
  selectInPlace,
  trimmedMean,
  weightedMean,
} from "@/lib/aggregation";
import { createRandom } from "@/lib/random";

/** One Float32Array per client from plain rows. */
function rows(...values: number[][]): Float32Array[] {
  return values.map((row) => Float32Array.from(row));
}

function randomDeltas(n: number, d: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => {
    const delta = new Float32Array(d);
    // Rounded values make ties between clients common; adding 0 turns -0 into 0.
    for (let k = 0; k < d; k++) delta[k] = Math.round(random.gaussian() * 4) / 4 + 0;
    return delta;
  });
}

/** Sorts each coordinate's values with Array.prototype.sort, for checking the kernels. */
function sortedColumn(deltas: Float32Array[], k: number): number[] {
  return deltas.map((delta) => delta[k]).sort((a, b) => a - b);
}

describe("weightedMean", () => {
  it("weights by the given ratios", () => {
    const out = weightedMean(rows([1, 2], [3, 6]), [1, 3]);
    expect(Array.from(out)).toEqual([2.5, 5]);
  });

  it("spans several accumulator blocks", () => {
    const d = 10_000;
    const a = new Float32Array(d).fill(1);
    const b = new Float32Array(d).fill(4);
    const out = weightedMean([a, b], [2, 1]);
    expect(out[0]).toBe(2);
    expect(out[d - 1]).toBe(2);
    expect(out.every((v) => v === 2)).toBe(true);
  });

  it("sums every client count mod 4", () => {
    for (let n = 1; n <= 9; n++) {
      // Client i has value i + 1 and weight i + 1: the mean is sum (i + 1)^2 / sum (i + 1).
      const deltas = Array.from({ length: n }, (_, i) => new Float32Array(5000).fill(i + 1));
      const weights = Array.from({ length: n }, (_, i) => i + 1);
      const expected = weights.reduce((s, w) => s + w * w, 0) / weights.reduce((s, w) => s + w, 0);
      const out = weightedMean(deltas, weights);
      expect(out[0]).toBeCloseTo(expected, 5);
      expect(out[4999]).toBeCloseTo(expected, 5);
    }
  });

  it("rejects a zero total weight", () => {
    expect(() => weightedMean(rows([1], [2]), [0, 0])).toThrow(/weights sum to 0 over 2 clients/);
  });

  it("rejects a negative weight by index", () => {
    expect(() => weightedMean(rows([1], [2]), [1, -1])).toThrow(
      /weights\[1\] must be a finite number >= 0, got -1/,
    );
  });

  it("rejects deltas of different lengths", () => {
    expect(() => weightedMean(rows([1, 2], [3]), [1, 1])).toThrow(
      /deltas\[1\] has 1 values, expected 2/,
    );
  });

  it("names a NaN value", () => {
    expect(() => weightedMean(rows([1, 2], [3, Number.NaN]), [1, 1])).toThrow(
      /deltas\[1\]\[1\] is NaN/,
    );
  });
});

describe("selectInPlace", () => {
  it("places rank k and partitions around it", () => {
    const random = createRandom(3);
    for (let trial = 0; trial < 100; trial++) {
      const n = 1 + random.int(80);
      const source = Array.from({ length: n }, () => random.int(10));
      // Even trials run the Float64Array copy of the algorithm, odd ones the Float32Array copy.
      const values = trial % 2 === 0 ? Float64Array.from(source) : Float32Array.from(source);
      const sorted = Array.from(values).sort((a, b) => a - b);
      const k = random.int(n);
      selectInPlace(values, 0, n - 1, k);
      expect(values[k]).toBe(sorted[k]);
      for (let i = 0; i < k; i++) expect(values[i]).toBeLessThanOrEqual(values[k]);
      for (let i = k + 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[k]);
    }
  });
});

describe("coordinateMedian", () => {
  it("takes the middle of an odd count", () => {
    expect(Array.from(coordinateMedian(rows([3, -1], [1, 5], [2, 0])))).toEqual([2, 0]);
  });

  it("averages the two middles of an even count", () => {
    expect(Array.from(coordinateMedian(rows([4], [1], [3], [2])))).toEqual([2.5]);
  });

  it("handles ties", () => {
    expect(Array.from(coordinateMedian(rows([1], [1], [1], [5])))).toEqual([1]);
    expect(Array.from(coordinateMedian(rows([2], [7], [7], [7], [0])))).toEqual([7]);
  });

  it("matches a sort on many coordinates", () => {
    for (const n of [5, 16, 37, 64]) {
      const deltas = randomDeltas(n, 3000, n);
      const out = coordinateMedian(deltas);
      for (let k = 0; k < 3000; k++) {
        const column = sortedColumn(deltas, k);
        const expected =
          n % 2 === 1 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
        expect(out[k]).toBe(Math.fround(expected));
      }
    }
  });

  it("matches a sort on tie-heavy columns", () => {
    // 301 clients, values drawn from {0, 1, 2}, and an all-zero coordinate: the selection's
    // partition must group values equal to the pivot.
    const random = createRandom(12);
    const deltas = Array.from({ length: 301 }, () =>
      Float32Array.from({ length: 200 }, (_, k) => (k === 0 ? 0 : random.int(3))),
    );
    const median = coordinateMedian(deltas);
    const trimmed = trimmedMean(deltas, 0.1);
    for (let k = 0; k < 200; k++) {
      const column = sortedColumn(deltas, k);
      expect(median[k]).toBe(column[150]);
      const kept = column.slice(30, 271);
      expect(trimmed[k]).toBe(Math.fround(kept.reduce((s, v) => s + v, 0) / kept.length));
    }
  });

  it("leaves the input deltas unchanged", () => {
    const deltas = rows([3], [1], [2]);
    coordinateMedian(deltas);
    expect(deltas.map((d) => d[0])).toEqual([3, 1, 2]);
  });

  it("names an infinite value", () => {
    expect(() => coordinateMedian(rows([1], [Number.POSITIVE_INFINITY], [2]))).toThrow(
      /deltas\[1\]\[0\] is Infinity/,
    );
  });
});

describe("trimmedMean", () => {
  it("drops floor(beta * n) values from each end", () => {
    const out = trimmedMean(rows([10], [1], [2], [3], [-100]), 0.2);
    expect(Array.from(out)).toEqual([2]);
  });

  it("is the plain mean when nothing is trimmed", () => {
    // floor(0.1 * 5) = 0.
    const out = trimmedMean(rows([10], [1], [2], [3], [-100]), 0.1);
    expect(out[0]).toBeCloseTo(-84 / 5, 5);
  });

  it("trims tied values by rank", () => {
    const out = trimmedMean(rows([1], [1], [1], [1], [9], [9]), 1 / 3);
    expect(Array.from(out)).toEqual([1]);
  });

  it("matches a sort on many coordinates", () => {
    for (const [n, beta] of [
      [10, 0.1],
      [33, 0.2],
      [64, 0.45],
    ]) {
      const deltas = randomDeltas(n, 2000, n + 100);
      const trimmed = Math.floor(beta * n);
      const out = trimmedMean(deltas, beta);
      for (let k = 0; k < 2000; k++) {
        const kept = sortedColumn(deltas, k).slice(trimmed, n - trimmed);
        const expected = kept.reduce((s, v) => s + v, 0) / kept.length;
        expect(out[k]).toBe(Math.fround(expected));
      }
    }
  });

  it("states the bound when beta is too large for n", () => {
    expect(() => trimmedMean(rows([1], [2], [3], [4]), 0.5)).toThrow(
      /trimmed mean needs 2 \* floor\(beta \* n\) < n, got beta = 0.5, n = 4/,
    );
  });

  it("rejects beta outside [0, 0.5]", () => {
    expect(() => trimmedMean(rows([1], [2], [3]), -0.1)).toThrow(
      /beta must be a number in \[0, 0.5\], got -0.1/,
    );
  });
});

describe("pairwiseSquaredDistances", () => {
  it("returns a symmetric matrix of squared distances", () => {
    const distances = pairwiseSquaredDistances(rows([0, 0], [3, 4], [1, 1]));
    expect(Array.from(distances)).toEqual([0, 25, 2, 25, 0, 13, 2, 13, 0]);
  });

  it("sums across chunks", () => {
    const d = 5000;
    const a = new Float32Array(d);
    const b = new Float32Array(d).fill(2);
    expect(pairwiseSquaredDistances([a, b])[1]).toBe(4 * d);
  });
});

describe("krum", () => {
  // 1-D deltas 0, 1, 3, 5, 20 with f = 1: each score sums the n - f - 2 = 2 smallest squared
  // distances: 0 -> 1 + 9 = 10, 1 -> 1 + 4 = 5, 3 -> 4 + 4 = 8, 5 -> 4 + 16 = 20,
  // 20 -> 225 + 289 = 514.
  const deltas = rows([0], [1], [3], [5], [20]);

  it("scores each client by its nearest neighbours", () => {
    expect(Array.from(krum(deltas, 1).scores)).toEqual([10, 5, 8, 20, 514]);
  });

  it("chooses the hand-computed client", () => {
    const result = krum(deltas, 1);
    expect(result.selected).toEqual([1]);
    expect(Array.from(result.delta)).toEqual([1]);
  });

  it("breaks a score tie by input order", () => {
    // Scores: 0 -> 1 + 4 = 5, 1 -> 1 + 1 = 2, 2 -> 1 + 1 = 2, 3 -> 5, 10 -> 113.
    const result = krum(rows([0], [1], [2], [3], [10]), 1);
    expect(result.selected).toEqual([1]);
  });

  it("returns a copy of the chosen delta", () => {
    const result = krum(deltas, 1);
    result.delta[0] = 42;
    expect(deltas[1][0]).toBe(1);
  });

  it("states the bound when f is too large", () => {
    expect(() => krum(rows([0], [1], [2], [3]), 1)).toThrow(
      /Krum needs n > 2f \+ 2, got n = 4, f = 1: with f = 1 at least 5 clients are needed/,
    );
  });

  it("rejects a neighbour count above the candidates", () => {
    const distances = pairwiseSquaredDistances(deltas);
    expect(() => krumScores(distances, 5, [0, 1], 2)).toThrow(AggregationError);
  });
});

describe("multiKrum", () => {
  it("averages the m best-scored deltas", () => {
    // Squared distances: 01 = 5, 02 = 13, 03 = 29, 12 = 20, 13 = 32, 23 = 4, and >= 225 to
    // client 4. Scores (two nearest): 18, 25, 17, 33, 514, so the best three are 2, 0, 1.
    const result = multiKrum(rows([0, 2], [1, 4], [3, 0], [5, 0], [20, 0]), 1, 3);
    expect(Array.from(result.scores)).toEqual([18, 25, 17, 33, 514]);
    expect(result.selected).toEqual([2, 0, 1]);
    expect(Array.from(result.delta)).toEqual([4 / 3, 2].map(Math.fround));
  });

  it("breaks a tie at the m-th place by input order", () => {
    // Scores 5, 2, 2, 5, 113: the third place is a tie between clients 0 and 3.
    const result = multiKrum(rows([0], [1], [2], [3], [10]), 1, 3);
    expect(result.selected).toEqual([1, 2, 0]);
    expect(Array.from(result.delta)).toEqual([1]);
  });

  it("rejects m above n - f", () => {
    expect(() => multiKrum(rows([0], [1], [3], [5], [20]), 1, 5)).toThrow(
      /m must be an integer in \[1, 4\], got 5/,
    );
  });

  it("reuses given distances", () => {
    const deltas = rows([0], [1], [3], [5], [20]);
    const distances = pairwiseSquaredDistances(deltas);
    expect(multiKrum(deltas, 1, 2, distances).selected).toEqual([1, 2]);
  });
});

describe("bulyan", () => {
  it("selects by repeated Krum on a small set", () => {
    // n = 7, f = 1: theta = 5 selections, then the beta = 3 values closest to the median.
    // Loop: {2} (score 10), then 1 and 3 tie at 14 -> 1, then 3 (10), then 0 and 4 tie with
    // one neighbour -> 0, then 4 and -50 tie -> 4. Column {0, 1, 2, 3, 4}: median 2, then 1
    // and 3 are equally close -> 1, then 3 -> mean (2 + 1 + 3) / 3 = 2.
    const result = bulyan(rows([0], [1], [2], [3], [4], [100], [-50]), 1);
    expect(result.selected).toEqual([2, 1, 3, 0, 4]);
    expect(Array.from(result.delta)).toEqual([2]);
  });

  it("averages the values closest to the median", () => {
    // The two far deltas are dropped by the Krum loop; in coordinate 1 the selected values
    // 0, 1, 2, 10, 11 have median 2 and closest values 2, 1, 0 (a trimmed mean gives 13 / 3).
    const deltas = rows([0, 0], [0, 1], [0, 2], [0, 10], [0, 11], [1000, 5], [-1000, 5]);
    const result = bulyan(deltas, 1);
    expect([...result.selected].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(result.delta)).toEqual([0, 1]);
  });

  it("matches the mean when f is 0", () => {
    const result = bulyan(rows([1], [2], [6]), 0);
    expect(Array.from(result.delta)).toEqual([3]);
  });

  it("handles long columns", () => {
    // n = 23, f = 5: theta = 13 values per column, beta = 3, with many tied values.
    const deltas = randomDeltas(23, 50, 7);
    const result = bulyan(deltas, 5);
    expect(result.selected).toHaveLength(13);
    for (let k = 0; k < 50; k++) {
      const column = result.selected.map((i) => deltas[i][k]).sort((a, b) => a - b);
      const median = column[6];
      // The 3 values closest to the median, the smaller one first on equal distance.
      const closest = [...column]
        .sort((a, b) => Math.abs(a - median) - Math.abs(b - median) || a - b)
        .slice(0, 3);
      expect(result.delta[k]).toBe(Math.fround(closest.reduce((s, v) => s + v, 0) / 3));
    }
  });

  it("states the bound when f is too large", () => {
    expect(() => bulyan(rows([0], [1], [2], [3], [4], [5]), 1)).toThrow(
      /Bulyan needs n >= 4f \+ 3, got n = 6, f = 1: with f = 1 at least 7 clients are needed/,
    );
  });
});
