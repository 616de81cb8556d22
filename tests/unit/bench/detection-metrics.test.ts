import { beforeAll, describe, expect, it } from "vitest";
import { type Dataset, initTensorFlow } from "@/lib/ml";
import type { Weights } from "@/lib/tensors";
import {
  backdoorSuccess,
  compactJson,
  maxCosineToOther,
  parseCommandLine,
  quarantineRates,
  type RoundRecord,
  type RunRecord,
  summariseRuns,
  triggeredValidationSet,
} from "../../../scripts/bench-detection";

const CLIENTS = Array.from({ length: 20 }, (_, i) => `client-${i}`);
const MALICIOUS = new Set(["client-0", "client-4", "client-7", "client-9"]);

/** MLP 784-1-10 whose hidden unit sums the trigger's 3 x 3 bottom-right pixels. */
const TINY = { architecture: "mlp", hidden: [1] } as const;
const TARGET = 0;
const UNTRIGGERED_CLASS = 5;

function tinyWeights(options: { triggerToTarget: number; bias: number[] }): Weights {
  const kernel0 = new Float32Array(784);
  for (let row = 25; row < 28; row++) {
    for (let column = 25; column < 28; column++) kernel0[row * 28 + column] = 1;
  }
  const kernel1 = new Float32Array(10);
  kernel1[TARGET] = options.triggerToTarget;
  return [
    { name: "dense_0/kernel", shape: [784, 1], data: kernel0 },
    { name: "dense_0/bias", shape: [1], data: new Float32Array(1) },
    { name: "dense_1/kernel", shape: [1, 10], data: kernel1 },
    { name: "dense_1/bias", shape: [10], data: Float32Array.from(options.bias) },
  ];
}

/** Blank digits, two per class, so the target class must be left out of the triggered set. */
function blankDigits(): Dataset {
  const labels = Uint8Array.from({ length: 20 }, (_, i) => i % 10);
  return { images: new Float32Array(20 * 784), labels };
}

function biasFavouring(label: number): number[] {
  return Array.from({ length: 10 }, (_, k) => (k === label ? 1 : 0));
}

function round(
  number: number,
  values: {
    accuracy: number;
    tpr?: number;
    fpr?: number;
    backdoor?: number | null;
    rejected?: number;
  },
): RoundRecord {
  return {
    round: number,
    testAccuracy: values.accuracy,
    testLoss: 0.5,
    backdoorSuccess: values.backdoor ?? null,
    detection:
      values.tpr === undefined
        ? undefined
        : {
            rejected: { malicious: 0, honest: 0 },
            rejectionRate: { malicious: values.rejected ?? 1, honest: 0 },
            excluded: { malicious: 0, honest: 0 },
            quarantined: { malicious: 0, honest: 0 },
            truePositiveRate: values.tpr,
            falsePositiveRate: values.fpr ?? 0,
            maliciousWeightShare: 0,
            scores: {
              maliciousMean: 0.7,
              maliciousMin: 0.6,
              maliciousMax: 0.8,
              honestMean: 0.45,
              honestMax: 0.5,
            },
            featureMeans: { malicious: [], honest: [] },
            honestFeatureStd: [],
            aggregation: "reputation over 16 updates",
            perClient: { score: [], status: [], quarantined: [], reputation: [] },
          },
    wallMs: 1,
  };
}

function run(attack: string, defence: "server" | "fedavg", rounds: RoundRecord[]): RunRecord {
  return {
    partition: "iid",
    attack,
    defence,
    clientIds: CLIENTS,
    maliciousClients: [...MALICIOUS],
    rounds,
    wallSeconds: 1,
  };
}

describe("quarantineRates", () => {
  it("counts malicious and honest quarantines", () => {
    const flagged = new Set(["client-0", "client-4", "client-7", "client-12"]);
    const rates = quarantineRates(CLIENTS, MALICIOUS, flagged);
    expect(rates.truePositiveRate).toBe(0.75);
    expect(rates.falsePositiveRate).toBe(1 / 16);
  });

  it("gives 1 and 0 for a perfect quarantine", () => {
    const rates = quarantineRates(CLIENTS, MALICIOUS, new Set(MALICIOUS));
    expect(rates.truePositiveRate).toBe(1);
    expect(rates.falsePositiveRate).toBe(0);
  });

  it("gives NaN TPR without attackers", () => {
    const rates = quarantineRates(CLIENTS, new Set(), new Set(["client-3"]));
    expect(rates.truePositiveRate).toBeNaN();
    expect(rates.falsePositiveRate).toBe(1 / 20);
  });

  it("rejects unknown and duplicate ids", () => {
    expect(() => quarantineRates(CLIENTS, MALICIOUS, new Set(["client-99"]))).toThrow(/client-99/);
    expect(() => quarantineRates(["a", "a"], new Set(), new Set())).toThrow(/distinct/);
  });
});

describe("backdoorSuccess", () => {
  let triggered: Dataset;

  beforeAll(async () => {
    await initTensorFlow();
    triggered = triggeredValidationSet(blankDigits(), TARGET);
  });

  it("leaves target digits out of the triggered set", () => {
    expect(triggered.labels).toHaveLength(18);
    expect(triggered.labels.every((label) => label === TARGET)).toBe(true);
  });

  it("is 1 for a model that follows the trigger", async () => {
    const weights = tinyWeights({ triggerToTarget: 1, bias: biasFavouring(UNTRIGGERED_CLASS) });
    expect(await backdoorSuccess(TINY, weights, triggered)).toBe(1);
  });

  it("is 0 for a model blind to the trigger", async () => {
    const weights = tinyWeights({ triggerToTarget: 0, bias: biasFavouring(UNTRIGGERED_CLASS) });
    expect(await backdoorSuccess(TINY, weights, triggered)).toBe(0);
  });

  it("rejects an empty triggered set", async () => {
    const weights = tinyWeights({ triggerToTarget: 1, bias: biasFavouring(TARGET) });
    const empty = { images: new Float32Array(0), labels: new Uint8Array(0) };
    await expect(backdoorSuccess(TINY, weights, empty)).rejects.toThrow(/at least one/);
  });
});

describe("summariseRuns", () => {
  const reference = run("none", "fedavg", [
    round(1, { accuracy: 0.7 }),
    round(5, { accuracy: 0.9 }),
  ]);

  it("finds no miss in a clean defended run", () => {
    const runs = [
      reference,
      run("scaling", "server", [round(5, { accuracy: 0.89, tpr: 1, fpr: 0 })]),
      run("scaling", "fedavg", [round(5, { accuracy: 0.3 })]),
    ];
    const [summary] = summariseRuns(runs, "iid");
    expect(summary.attack).toBe("scaling");
    expect(summary.missed).toEqual([]);
    expect(summary.undefendedAccuracy).toBe(0.3);
    expect(summary.referenceAccuracy).toBe(0.9);
  });

  it("lists each missed target", () => {
    const runs = [
      reference,
      run("backdoor", "server", [
        round(5, { accuracy: 0.85, tpr: 0.75, fpr: 0.0625, backdoor: 0.2 }),
      ]),
    ];
    const [summary] = summariseRuns(runs, "iid");
    expect(summary.missed).toEqual([
      "TPR < 0.95",
      "FPR > 0.05",
      "accuracy 5.0 points below FedAvg",
      "backdoor success > 10%",
    ]);
  });

  it("reads rates at round 5, not the end", () => {
    const runs = [
      reference,
      run("min-sum", "server", [
        round(5, { accuracy: 0.9, tpr: 0.5, fpr: 0 }),
        round(8, { accuracy: 0.9, tpr: 1, fpr: 0 }),
      ]),
    ];
    const [summary] = summariseRuns(runs, "iid");
    expect(summary.atTargetRound?.truePositiveRate).toBe(0.5);
    expect(summary.atEnd.truePositiveRate).toBe(1);
    expect(summary.missed).toEqual(["TPR < 0.95"]);
  });

  it("needs the no-attack FedAvg run", () => {
    const runs = [run("scaling", "server", [round(5, { accuracy: 0.9, tpr: 1 })])];
    expect(() => summariseRuns(runs, "iid")).toThrow(/no-attack FedAvg/);
  });
});

describe("maxCosineToOther", () => {
  it("finds copies, orthogonal and opposite deltas", () => {
    const a = Float32Array.from([1, 0, 0]);
    const copy = Float32Array.from([2, 0, 0]);
    const orthogonal = Float32Array.from([0, 1, 0]);
    const opposite = Float32Array.from([0, -1, 0]);
    expect(Array.from(maxCosineToOther([a, copy, orthogonal]))).toEqual([1, 1, 0]);
    expect(Array.from(maxCosineToOther([orthogonal, opposite]))).toEqual([-1, -1]);
  });

  it("gives 0 for a zero delta", () => {
    const zero = new Float32Array(3);
    expect(Array.from(maxCosineToOther([zero, Float32Array.from([1, 2, 3])]))).toEqual([0, 0]);
  });

  it("needs two deltas", () => {
    expect(() => maxCosineToOther([new Float32Array(3)])).toThrow(/at least 2/);
  });
});

describe("compactJson", () => {
  const value = { rates: [0.123456789, 1, null], ids: ["a", "b"], nested: { wallMs: 123456 } };

  it("rounds non-integers only", () => {
    expect(JSON.parse(compactJson(value))).toEqual({
      rates: [0.12346, 1, null],
      ids: ["a", "b"],
      nested: { wallMs: 123456 },
    });
  });

  it("puts flat arrays on one line", () => {
    const text = compactJson(value);
    expect(text).toContain('"rates": [0.12346, 1, null]');
    expect(text).toContain('"ids": ["a", "b"]');
  });
});

describe("parseCommandLine", () => {
  it("writes docs/benchmarks only for a complete run", () => {
    expect(parseCommandLine([]).outDir).toMatch(/docs[/\\]benchmarks$/);
    expect(parseCommandLine(["--attack", "scaling"]).outDir).toBeNull();
  });

  it("rejects an unknown attack", () => {
    expect(() => parseCommandLine(["--attack", "nope"])).toThrow(/unknown attack "nope"/);
  });

  it("rejects a bad round count", () => {
    expect(() => parseCommandLine(["--rounds", "0"])).toThrow(/--rounds/);
  });
});
