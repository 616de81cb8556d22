import { describe, expect, it } from "vitest";
import {
  forestTreeShap,
  IsolationForestDetector,
  RoundDetector,
  SHAPExplainer,
} from "@/lib/detection";
import { createRandom } from "@/lib/random";
import { syntheticRound } from "./synthetic-round";

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

describe("SHAPExplainer", () => {
  const round = syntheticRound(createRandom(12), { honest: 8, attackers: 2, attack: "sign_flip" });
  const scores = new RoundDetector({ seed: 1 }).scoreRound(round);
  const explainer = new SHAPExplainer(scores.detector);
  const attacker = scores.results[8];
  const honest = scores.results[0];

  it("score-space values sum to the score", () => {
    for (const result of scores.results) {
      const explanation = explainer.explain(result.features, result.score);
      expect(explanation.explainedOutput).toBeCloseTo(result.score, 14);
      expect(
        Math.abs(explanation.expectedValue + sum(explanation.shapValues) - result.score),
      ).toBeLessThan(1e-9);
    }
  });

  it("path-length values are exact TreeSHAP", () => {
    const explanation = explainer.explain(attacker.features);
    const exact = forestTreeShap(scores.detector, attacker.features);
    expect(explanation.pathLength.shapValues).toEqual(Array.from(exact.shapValues));
    expect(explanation.pathLength.output).toBe(exact.output);
    expect(explanation.expectedValue).toBeCloseTo(
      scores.detector.scoreFromPathLength(exact.expectedValue),
      14,
    );
  });

  it("mapping keeps ranking and flips sign", () => {
    const explanation = explainer.explain(attacker.features);
    const { shapValues, pathLength } = explanation;
    const factor = shapValues[0] / pathLength.shapValues[0];
    expect(factor).toBeLessThan(0);
    shapValues.forEach((value, j) => {
      expect(value).toBeCloseTo(pathLength.shapValues[j] * factor, 12);
    });
  });

  it("explanation names the top raising feature", () => {
    const explanation = explainer.explain(attacker.features, attacker.score);
    expect(explanation.isAnomalous).toBe(true);
    expect(explanation.featureNames).toEqual(scores.featureNames);
    expect(explanation.featureValues).toEqual(Array.from(attacker.features));
    const top = explanation.shapValues.indexOf(Math.max(...explanation.shapValues));
    expect(explanation.explanation).toContain(`(${explanation.featureNames[top]} = `);
    expect(explanation.explanation).toMatch(
      /^Anomaly score 0\.\d{3} is above the threshold 0\.575 \(expected score 0\.\d{3}\)\. Raised most by /,
    );
    // A sign flip shows up in the cosine or sign features, not in the norm ratios.
    expect(explanation.featureNames[top]).toMatch(/cosine|sign|distance|mad/);
  });

  it("honest update is below the threshold", () => {
    const explanation = explainer.explain(honest.features);
    expect(explanation.isAnomalous).toBe(false);
    expect(explanation.explanation).toMatch(/is at or below the threshold 0\.575/);
  });

  it("explains updates through extractFeatures", () => {
    const byUpdate = new SHAPExplainer(scores.detector, {
      extractFeatures: (update: { clientId: string }) =>
        scores.results.find((r) => r.clientId === update.clientId)?.features ?? [],
    });
    const explanation = byUpdate.explain({ clientId: attacker.clientId });
    expect(explanation.shapValues).toEqual(explainer.explain(attacker.features).shapValues);
  });

  it("forest without splits explains nothing", () => {
    // Two identical rows leave every tree a single leaf, so E[h(x)] equals the expected value
    // and the mapping takes the derivative branch.
    const detector = new IsolationForestDetector({ numTrees: 5 }).fit([
      [1, 1],
      [1, 1],
    ]);
    const explanation = new SHAPExplainer(detector).explain([1, 1]);
    for (const value of explanation.shapValues) expect(Math.abs(value)).toBe(0);
    expect(explanation.explainedOutput).toBeCloseTo(explanation.expectedValue, 14);
    expect(explanation.featureNames).toEqual(["feature_0", "feature_1"]);
    expect(explanation.explanation).toMatch(/and no feature raised it\.$/);
  });

  it("rejects a score from another row", () => {
    expect(() => explainer.explain(attacker.features, honest.score)).toThrow(
      /score must be the detector's score of this row/,
    );
    expect(() => explainer.explain({ clientId: "x" } as never)).toThrow(
      /explain needs a feature row, or an update and an explainer built with extractFeatures/,
    );
    expect(() => new SHAPExplainer(new IsolationForestDetector())).toThrow(/fitted/);
    expect(() => new SHAPExplainer(scores.detector, { featureNames: ["a"] })).toThrow(
      /options.featureNames has 1 names, the detector has \d+ features/,
    );
  });
});
