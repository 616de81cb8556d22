import { describe, expect, it } from "vitest";
import {
  AggregationError,
  type AggregationRule,
  type ClientUpdate,
  ModelAggregator,
} from "@/lib/aggregation";
import { createRandom, shuffleInPlace } from "@/lib/random";
import { flattenWeights, LayoutMismatchError, type Weights } from "@/lib/tensors";

/** A model with a 2-value kernel and a 1-value bias, from three numbers. */
function model(kernel0: number, kernel1: number, bias: number): Weights {
  return [
    { name: "dense/kernel", shape: [2], data: Float32Array.from([kernel0, kernel1]) },
    { name: "dense/bias", shape: [1], data: Float32Array.from([bias]) },
  ];
}

function update(clientId: string, values: number[], numSamples?: number): ClientUpdate {
  return { clientId, weights: model(values[0], values[1], values[2]), numSamples };
}

function flat(weights: Weights): number[] {
  return Array.from(flattenWeights(weights));
}

const GLOBAL = model(1, 1, 0);

describe("ModelAggregator fedavg", () => {
  it("weights deltas by sample count", () => {
    // Deltas [1, 2, 0] x 1 sample and [3, 6, 4] x 3 samples: mean [2.5, 5, 3].
    const aggregator = new ModelAggregator({ rule: { name: "fedavg" } });
    const result = aggregator.aggregate(GLOBAL, [
      update("a", [2, 3, 0], 1),
      update("b", [4, 7, 4], 3),
    ]);
    expect(flat(result.delta)).toEqual([2.5, 5, 3]);
    expect(flat(result.weights)).toEqual([3.5, 6, 3]);
    expect(result.weights.map((t) => t.name)).toEqual(["dense/kernel", "dense/bias"]);
    expect(result.clients.map((c) => c.effectiveWeight)).toEqual([0.25, 0.75]);
  });

  it("is the default rule", () => {
    const result = new ModelAggregator().aggregate(GLOBAL, [update("a", [2, 2, 2], 5)]);
    expect(result.rule).toBe("fedavg");
    expect(flat(result.weights)).toEqual([2, 2, 2]);
  });

  it("rejects a missing sample count by client", () => {
    const aggregator = new ModelAggregator();
    expect(() =>
      aggregator.aggregate(GLOBAL, [update("a", [1, 1, 1], 2), update("b", [1, 1, 1])]),
    ).toThrow(/client b: numSamples is missing, the "fedavg" rule weights by sample count/);
  });

  it("rejects a zero total sample count", () => {
    const aggregator = new ModelAggregator();
    expect(() =>
      aggregator.aggregate(GLOBAL, [update("a", [1, 1, 1], 0), update("b", [2, 2, 2], 0)]),
    ).toThrow(/weights sum to 0 over 2 clients/);
  });

  it("rejects influence weights", () => {
    const aggregator = new ModelAggregator();
    expect(() => aggregator.aggregate(GLOBAL, [update("a", [1, 1, 1], 1)], { a: 1 })).toThrow(
      /influence weights are used only by the "reputation" rule, not by "fedavg"/,
    );
  });
});

describe("ModelAggregator reputation", () => {
  const updates = [update("a", [2, 1, 0], 10), update("b", [1, 5, 8], 30)];

  it("weights deltas by influence", () => {
    // Deltas [1, 0, 0] and [0, 4, 8] with influence 3 : 1.
    const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
    const result = aggregator.aggregate(GLOBAL, updates, { a: 0.75, b: 0.25 });
    expect(flat(result.delta)).toEqual([0.75, 1, 2]);
    expect(result.clients.map((c) => c.effectiveWeight)).toEqual([0.75, 0.25]);
  });

  it("accepts a Map of influence weights", () => {
    const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
    const influence = new Map([
      ["a", 1],
      ["b", 0],
    ]);
    const result = aggregator.aggregate(GLOBAL, updates, influence);
    expect(flat(result.delta)).toEqual([1, 0, 0]);
    expect(result.clients.map((c) => c.selected)).toEqual([true, false]);
  });

  it("multiplies influence by samples on request", () => {
    // Influence 3 : 1 times samples 10 : 30 gives equal weights.
    const aggregator = new ModelAggregator({ rule: { name: "reputation", weightBySamples: true } });
    const result = aggregator.aggregate(GLOBAL, updates, { a: 0.75, b: 0.25 });
    expect(flat(result.delta)).toEqual([0.5, 2, 4]);
  });

  it("rejects all-zero influence by name", () => {
    const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
    expect(() => aggregator.aggregate(GLOBAL, updates, { a: 0, b: 0 })).toThrow(
      /every influence weight is 0 \(clients a, b\)/,
    );
  });

  it("rejects a client without influence", () => {
    const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
    expect(() => aggregator.aggregate(GLOBAL, updates, { a: 1 })).toThrow(
      /client b has no influence weight/,
    );
  });

  it("rejects negative influence", () => {
    const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
    expect(() => aggregator.aggregate(GLOBAL, updates, { a: 1, b: -2 })).toThrow(
      /client b: influence weight must be a finite number >= 0, got -2/,
    );
  });

  it("requires influence weights", () => {
    const aggregator = new ModelAggregator({ rule: { name: "reputation" } });
    expect(() => aggregator.aggregate(GLOBAL, updates)).toThrow(/needs influence weights/);
  });
});

describe("ModelAggregator robust rules", () => {
  // Five clients; "e" is far off. Deltas in the first coordinate: 0, 1, 3, 5, 20.
  const updates = [
    update("a", [1, 1, 0]),
    update("b", [2, 1, 0]),
    update("c", [4, 1, 0]),
    update("d", [6, 1, 0]),
    update("e", [21, 1, 0]),
  ];

  it("median takes the middle delta", () => {
    const result = new ModelAggregator({ rule: { name: "median" } }).aggregate(GLOBAL, updates);
    expect(flat(result.delta)).toEqual([3, 0, 0]);
    expect(result.clients.every((c) => c.effectiveWeight === null)).toBe(true);
  });

  it("trimmed mean drops one value per end", () => {
    const aggregator = new ModelAggregator({ rule: { name: "trimmed-mean", beta: 0.2 } });
    expect(flat(aggregator.aggregate(GLOBAL, updates).delta)).toEqual([3, 0, 0]);
  });

  it("krum selects the hand-computed client", () => {
    const result = new ModelAggregator({ rule: { name: "krum", f: 1 } }).aggregate(GLOBAL, updates);
    expect(flat(result.weights)).toEqual([2, 1, 0]);
    expect(result.clients.filter((c) => c.selected).map((c) => c.clientId)).toEqual(["b"]);
    expect(result.clients.map((c) => c.krumScore)).toEqual([10, 5, 8, 20, 514]);
    expect(result.clients.map((c) => c.effectiveWeight)).toEqual([0, 1, 0, 0, 0]);
  });

  it("multi-krum averages the selected clients", () => {
    const aggregator = new ModelAggregator({ rule: { name: "multi-krum", f: 1, m: 2 } });
    const result = aggregator.aggregate(GLOBAL, updates);
    // Best scores: b (5), c (8): mean delta (1 + 3) / 2 = 2.
    expect(flat(result.delta)).toEqual([2, 0, 0]);
    expect(result.clients.map((c) => c.effectiveWeight)).toEqual([0, 0.5, 0.5, 0, 0]);
  });

  it("bulyan drops the far clients", () => {
    const seven = [...updates, update("f", [-49, 1, 0]), update("g", [101, 1, 0])];
    const result = new ModelAggregator({ rule: { name: "bulyan", f: 1 } }).aggregate(GLOBAL, seven);
    expect(result.clients.filter((c) => !c.selected).map((c) => c.clientId)).toEqual(["f", "g"]);
    // The Krum loop picks d, c, b, then a and e after ties; their deltas 0, 1, 3, 5, 20 have
    // median 3, and the three closest values 3, 1 (tied with 5, smaller first), 5 average 3.
    expect(flat(result.delta)).toEqual([3, 0, 0]);
  });

  it("states the Krum bound", () => {
    const aggregator = new ModelAggregator({ rule: { name: "krum", f: 2 } });
    expect(() => aggregator.aggregate(GLOBAL, updates)).toThrow(
      /Krum needs n > 2f \+ 2, got n = 5, f = 2: with f = 2 at least 7 clients are needed, or lower f to at most 1/,
    );
  });

  it("states the Bulyan bound", () => {
    const aggregator = new ModelAggregator({ rule: { name: "bulyan", f: 1 } });
    expect(() => aggregator.aggregate(GLOBAL, updates)).toThrow(
      /Bulyan needs n >= 4f \+ 3, got n = 5, f = 1/,
    );
  });

  it("states the trimmed-mean bound", () => {
    const aggregator = new ModelAggregator({ rule: { name: "trimmed-mean", beta: 0.5 } });
    expect(() => aggregator.aggregate(GLOBAL, updates.slice(0, 4))).toThrow(
      /trimmed mean needs 2 \* floor\(beta \* n\) < n, got beta = 0.5, n = 4/,
    );
  });

  it("states the Multi-Krum limit on m", () => {
    const aggregator = new ModelAggregator({ rule: { name: "multi-krum", f: 1, m: 5 } });
    expect(() => aggregator.aggregate(GLOBAL, updates)).toThrow(
      /m must be an integer in \[1, 4\], got 5/,
    );
  });

  it("rejects influence weights", () => {
    const aggregator = new ModelAggregator({ rule: { name: "median" } });
    expect(() => aggregator.aggregate(GLOBAL, updates, { a: 1 })).toThrow(
      /used only by the "reputation" rule, not by "median"/,
    );
  });
});

describe("ModelAggregator clipping", () => {
  it("clips each delta to the fixed bound", () => {
    // Delta [3, 4, 0] has norm 5 and is scaled to norm 1.
    const aggregator = new ModelAggregator({
      rule: { name: "fedavg" },
      clipping: { mode: "fixed", maxNorm: 1 },
    });
    const result = aggregator.aggregate(GLOBAL, [update("a", [4, 5, 0], 1)]);
    expect(flat(result.delta)).toEqual([0.6, 0.8, 0].map(Math.fround));
    expect(result.clipNorm).toBe(1);
    expect(result.clients[0].deltaNorm).toBe(5);
    expect(result.clients[0].clipScale).toBeCloseTo(0.2, 12);
  });

  it("clips to a multiple of the median norm", () => {
    // Delta norms 1, 2, 10: median 2, bound 2; the third delta shrinks to [0, 0, 2].
    const aggregator = new ModelAggregator({
      rule: { name: "fedavg" },
      clipping: { mode: "adaptive", multiplier: 1 },
    });
    const result = aggregator.aggregate(GLOBAL, [
      update("a", [2, 1, 0], 1),
      update("b", [1, 3, 0], 1),
      update("c", [1, 1, 10], 1),
    ]);
    expect(result.clipNorm).toBe(2);
    expect(result.clients.map((c) => c.clipScale)).toEqual([1, 1, 0.2]);
    expect(flat(result.delta)).toEqual([1 / 3, 2 / 3, 2 / 3].map(Math.fround));
  });

  it("clips before the rule", () => {
    // Deltas 1, 2, 100 clipped to 1.5 become 1, 1.5, 1.5: the median is 1.5, not 2.
    const aggregator = new ModelAggregator({
      rule: { name: "median" },
      clipping: { mode: "fixed", maxNorm: 1.5 },
    });
    const result = aggregator.aggregate(GLOBAL, [
      update("a", [2, 1, 0]),
      update("b", [3, 1, 0]),
      update("c", [101, 1, 0]),
    ]);
    expect(flat(result.delta)).toEqual([1.5, 0, 0]);
  });

  it("composes with krum", () => {
    const aggregator = new ModelAggregator({
      rule: { name: "krum", f: 1 },
      clipping: { mode: "fixed", maxNorm: 2 },
    });
    const updates = ["a", "b", "c", "d", "e"].map((id, i) => update(id, [1 + i * i, 1, 0]));
    // Deltas 0, 1, 4, 9, 16 clip to 0, 1, 2, 2, 2; the three equal deltas score 0, c wins.
    const result = aggregator.aggregate(GLOBAL, updates);
    expect(result.clients.filter((c) => c.selected).map((c) => c.clientId)).toEqual(["c"]);
    expect(flat(result.delta)).toEqual([2, 0, 0]);
  });
});

describe("ModelAggregator input checks", () => {
  it("names the client and tensor of a layout mismatch", () => {
    const bad: ClientUpdate = {
      clientId: "client-7",
      weights: [
        { name: "dense/kernel", shape: [3], data: new Float32Array(3) },
        { name: "dense/bias", shape: [1], data: new Float32Array(1) },
      ],
      numSamples: 1,
    };
    const aggregator = new ModelAggregator();
    expect(() => aggregator.aggregate(GLOBAL, [update("a", [1, 1, 1], 1), bad])).toThrow(
      LayoutMismatchError,
    );
    expect(() => aggregator.aggregate(GLOBAL, [bad])).toThrow(
      /client-7: tensor "dense\/kernel" has shape \[3\], expected \[2\]/,
    );
  });

  it("names the client of a renamed tensor", () => {
    const weights = model(1, 1, 1);
    weights[1] = { ...weights[1], name: "dense/offset" };
    const aggregator = new ModelAggregator();
    expect(() => aggregator.aggregate(GLOBAL, [{ clientId: "x", weights, numSamples: 1 }])).toThrow(
      /x: tensor 1 is named "dense\/offset", expected "dense\/bias"/,
    );
  });

  it("names the client and tensor of a NaN", () => {
    const aggregator = new ModelAggregator({ rule: { name: "median" } });
    try {
      aggregator.aggregate(GLOBAL, [update("a", [1, 1, 1]), update("b", [1, 1, Number.NaN])]);
      expect.unreachable("a NaN update must be rejected");
    } catch (error) {
      expect(error).toBeInstanceOf(AggregationError);
      expect((error as AggregationError).message).toMatch(
        /client b: tensor "dense\/bias" has NaN at index 0, expected finite values/,
      );
      expect((error as AggregationError).clientId).toBe("b");
      expect((error as AggregationError).tensorName).toBe("dense/bias");
    }
  });

  it("rejects a delta that overflows float32", () => {
    const aggregator = new ModelAggregator({ rule: { name: "median" } });
    const global = model(-3e38, 0, 0);
    expect(() => aggregator.aggregate(global, [update("a", [3e38, 0, 0])])).toThrow(
      /client a: tensor "dense\/kernel" differs from the global model by more than float32 can hold/,
    );
  });

  it("rejects a NaN in the global model", () => {
    expect(() =>
      new ModelAggregator().aggregate(model(Number.NaN, 0, 0), [update("a", [1, 1, 1], 1)]),
    ).toThrow(/global model: tensor "dense\/kernel" has NaN at index 0/);
  });

  it("rejects two updates from one client", () => {
    const aggregator = new ModelAggregator();
    expect(() =>
      aggregator.aggregate(GLOBAL, [update("a", [1, 1, 1], 1), update("a", [2, 2, 2], 1)]),
    ).toThrow(/client a sent two updates/);
  });

  it("rejects an empty round", () => {
    expect(() => new ModelAggregator().aggregate(GLOBAL, [])).toThrow(
      /updates must be a non-empty array/,
    );
  });

  it("rejects an invalid sample count", () => {
    expect(() => new ModelAggregator().aggregate(GLOBAL, [update("a", [1, 1, 1], 1.5)])).toThrow(
      /client a: numSamples must be an integer >= 0, got 1.5/,
    );
  });

  it("rejects an unknown rule", () => {
    expect(
      () => new ModelAggregator({ rule: { name: "mean" } as unknown as AggregationRule }),
    ).toThrow(
      /rule.name must be one of fedavg, reputation, median, trimmed-mean, krum, multi-krum, bulyan, got mean/,
    );
  });

  it("rejects a fractional f", () => {
    expect(() => new ModelAggregator({ rule: { name: "krum", f: 1.5 } })).toThrow(
      /rule.f must be an integer >= 0, got 1.5/,
    );
  });
});

describe("ModelAggregator determinism", () => {
  const RULES: AggregationRule[] = [
    { name: "fedavg" },
    { name: "median" },
    { name: "trimmed-mean", beta: 0.2 },
    { name: "krum", f: 2 },
    { name: "multi-krum", f: 2, m: 4 },
    { name: "bulyan", f: 2 },
  ];

  function randomRound(seed: number): { global: Weights; updates: ClientUpdate[] } {
    const random = createRandom(seed);
    const values = () => Array.from({ length: 3 }, () => random.gaussian());
    const global = model(...(values() as [number, number, number]));
    const updates = Array.from({ length: 11 }, (_, i) =>
      update(`client-${String(i).padStart(2, "0")}`, values(), 1 + random.int(100)),
    );
    return { global, updates };
  }

  it("gives the same output twice", () => {
    for (const rule of RULES) {
      const { global, updates } = randomRound(5);
      const aggregator = new ModelAggregator({
        rule,
        clipping: { mode: "adaptive", multiplier: 1 },
      });
      const first = aggregator.aggregate(global, updates);
      const second = aggregator.aggregate(global, updates);
      expect(flat(second.weights)).toEqual(flat(first.weights));
      expect(second.clients).toEqual(first.clients);
    }
  });

  it("ignores the arrival order of updates", () => {
    for (const rule of RULES) {
      const { global, updates } = randomRound(9);
      const aggregator = new ModelAggregator({ rule });
      const inOrder = aggregator.aggregate(global, updates);
      const shuffled = shuffleInPlace([...updates], createRandom(4));
      const reordered = aggregator.aggregate(global, shuffled);
      expect(flat(reordered.weights)).toEqual(flat(inOrder.weights));
      expect(reordered.clients.map((c) => c.clientId)).toEqual(updates.map((u) => u.clientId));
    }
  });

  it("breaks ties by the smaller clientId", () => {
    // Identical updates from "b" and "a" tie on every score; "a" sorts first and wins.
    const aggregator = new ModelAggregator({ rule: { name: "krum", f: 0 } });
    const result = aggregator.aggregate(GLOBAL, [
      update("b", [2, 2, 2]),
      update("a", [2, 2, 2]),
      update("c", [9, 9, 9]),
    ]);
    expect(result.clients.filter((c) => c.selected).map((c) => c.clientId)).toEqual(["a"]);
  });

  it("never returns NaN", () => {
    for (let seed = 0; seed < 20; seed++) {
      const { global, updates } = randomRound(seed);
      // Zero and huge deltas are the usual sources of 0 / 0 and overflow.
      updates[0] = { ...updates[0], weights: global.map((t) => ({ ...t, data: t.data.slice() })) };
      updates[1] = update(updates[1].clientId, [3e37, -3e37, 1e30], 1);
      for (const rule of RULES) {
        const aggregator = new ModelAggregator({
          rule,
          clipping: { mode: "adaptive", multiplier: 2 },
        });
        const result = aggregator.aggregate(global, updates);
        expect(flat(result.weights).every(Number.isFinite)).toBe(true);
        expect(result.clients.every((c) => Number.isFinite(c.clipScale))).toBe(true);
      }
    }
  });
});
