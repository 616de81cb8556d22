import { describe, expect, it } from "vitest";
import {
  describeFeatures,
  ROUND_DETECTOR_DEFAULTS,
  RoundDetector,
  scoreRound,
  selectDetectorColumns,
} from "@/lib/detection";
import { createRandom } from "@/lib/random";
import { SYNTHETIC_MANIFEST, type SyntheticAttack, syntheticRound } from "./synthetic-round";

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const ATTACKS: SyntheticAttack[] = ["scale", "sign_flip"];

describe("scoreRound in the first round", () => {
  for (const attack of ATTACKS) {
    it(`separates 2 ${attack} attackers from 8 honest`, () => {
      for (const seed of SEEDS) {
        const round = syntheticRound(createRandom(seed), { honest: 8, attackers: 2, attack });
        const { results, historyRowsUsed } = scoreRound(round, { seed });
        expect(historyRowsUsed).toBe(0);
        const honest = results.filter((r) => r.clientId.startsWith("honest"));
        const attackers = results.filter((r) => r.clientId.startsWith("attacker"));
        const maxHonest = Math.max(...honest.map((r) => r.score));
        for (const r of attackers) {
          expect(r.score, `seed ${seed} ${r.clientId}`).toBeGreaterThan(maxHonest);
          expect(r.score, `seed ${seed} ${r.clientId}`).toBeGreaterThan(
            ROUND_DETECTOR_DEFAULTS.threshold,
          );
          expect(r.isAnomalous).toBe(true);
        }
        for (const r of honest) {
          expect(r.score, `seed ${seed} ${r.clientId}`).toBeLessThanOrEqual(
            ROUND_DETECTOR_DEFAULTS.threshold,
          );
          expect(r.isAnomalous).toBe(false);
        }
      }
    });
  }

  it("same seed gives same scores", () => {
    const round = syntheticRound(createRandom(3), { honest: 8, attackers: 2, attack: "scale" });
    const a = scoreRound(round, { seed: 5 }).results.map((r) => r.score);
    const b = scoreRound(round, { seed: 5 }).results.map((r) => r.score);
    expect(a).toEqual(b);
  });
});

describe("RoundDetector history", () => {
  it("keeps accepted rows within the window", () => {
    const random = createRandom(30);
    const detector = new RoundDetector({ seed: 2, historySize: 20 });
    const used: number[] = [];
    for (let k = 0; k < 4; k++) {
      const round = syntheticRound(random, { honest: 8, attackers: 2, attack: "sign_flip" });
      const scores = detector.scoreRound(round);
      used.push(scores.historyRowsUsed);
      for (const r of scores.results) {
        expect(r.isAnomalous, `round ${k} ${r.clientId}`).toBe(r.clientId.startsWith("attacker"));
      }
    }
    expect(used).toEqual([0, 8, 16, 20]);
    expect(detector.history.rows.length).toBe(20);
  });

  it("separates 10 colluding attackers from 40 honest", () => {
    for (const seed of [31, 32, 33]) {
      for (const attack of ATTACKS) {
        const random = createRandom(seed);
        const detector = new RoundDetector({ seed });
        for (let k = 0; k < 2; k++) {
          const round = syntheticRound(random, { honest: 40, attackers: 10, attack });
          for (const r of detector.scoreRound(round).results) {
            expect(r.isAnomalous, `seed ${seed} ${attack} round ${k} ${r.clientId}`).toBe(
              r.clientId.startsWith("attacker"),
            );
          }
        }
      }
    }
  });

  it("ignores history of another layout", () => {
    const round = syntheticRound(createRandom(8), { honest: 8, attackers: 2, attack: "scale" });
    const history = { featureNames: ["other"], rows: [Float64Array.from([1])] };
    expect(scoreRound(round, { history }).historyRowsUsed).toBe(0);
  });

  it("JSON round trip keeps options and history", () => {
    const detector = new RoundDetector({ seed: 6, historySize: 30 });
    detector.scoreRound(
      syntheticRound(createRandom(9), { honest: 8, attackers: 2, attack: "scale" }),
    );
    const restored = RoundDetector.fromJSON(JSON.parse(JSON.stringify(detector.toJSON())));
    expect(restored.options).toEqual(detector.options);
    expect(restored.history.featureNames).toEqual(detector.history.featureNames);
    expect(restored.history.rows.map((row) => Array.from(row))).toEqual(
      detector.history.rows.map((row) => Array.from(row)),
    );
    const next = syntheticRound(createRandom(10), { honest: 8, attackers: 2, attack: "scale" });
    expect(restored.scoreRound(next).results).toEqual(detector.scoreRound(next).results);
  });
});

describe("detector feature selection", () => {
  const features = describeFeatures(SYNTHETIC_MANIFEST);

  it("default leaves out untrusted and raw-scale features", () => {
    const names = selectDetectorColumns(features, "scale-invariant").map((c) => features[c].name);
    expect(names).toContain("global.cosine_to_median");
    expect(names).toContain("layer_3.l2_norm_ratio");
    expect(names).not.toContain("reported.loss");
    expect(names).not.toContain("global.l2_norm");
    expect(names).not.toContain("layer_0.mean");
    const trusted = selectDetectorColumns(features, "trusted").map((c) => features[c].name);
    expect(trusted).toContain("global.l2_norm");
    expect(trusted).not.toContain("reported.num_samples");
    expect(selectDetectorColumns(features, "all").length).toBe(features.length);
  });

  it("explicit names keep their order", () => {
    const round = syntheticRound(createRandom(2), { honest: 4, attackers: 1, attack: "scale" });
    const scores = scoreRound(round, {
      detectorFeatures: ["global.max_abs", "global.cosine_to_median"],
    });
    expect(scores.featureNames).toEqual(["global.max_abs", "global.cosine_to_median"]);
    expect(scores.results[0].features.length).toBe(2);
  });

  it("rejects unknown names and bad options", () => {
    const round = syntheticRound(createRandom(2), { honest: 4, attackers: 1, attack: "scale" });
    expect(() => scoreRound(round, { detectorFeatures: ["global.nope"] })).toThrow(
      /options.detectorFeatures names "global.nope", which is not a feature of this model/,
    );
    expect(() => new RoundDetector({ historySize: -1 })).toThrow(
      /options.historySize must be an integer >= 0, got -1/,
    );
    const single = syntheticRound(createRandom(2), { honest: 1, attackers: 0, attack: "scale" });
    expect(() => scoreRound(single)).toThrow(/needs at least 2 feature rows .*, got 1/);
  });
});
