import { describe, expect, it } from "vitest";
import { ClientReputationManager } from "@/lib/detection";

const CLEAN = 0.4;
const DIRTY = 0.7;

describe("ClientReputationManager reputation", () => {
  it("EMA of one minus score", () => {
    const manager = new ClientReputationManager({ initialReputation: 0.5, alpha: 0.3 });
    expect(manager.getReputation("a")).toBe(0.5);
    const first = manager.updateReputation("a", 0.2, 1);
    expect(first.reputation).toBeCloseTo(0.7 * 0.5 + 0.3 * 0.8, 14);
    const second = manager.updateReputation("a", 0.6, 2);
    expect(second.reputation).toBeCloseTo(0.7 * first.reputation + 0.3 * 0.4, 14);
    expect(manager.getReputation("a")).toBe(second.reputation);
  });

  it("influence weight is monotone in reputation", () => {
    const manager = new ClientReputationManager({ influenceFloor: 0.3, influenceExponent: 2 });
    let previous = -1;
    for (let rep = 0; rep <= 1.0000001; rep += 0.05) {
      const weight = manager.influenceWeightOf(Math.min(rep, 1));
      expect(weight).toBeGreaterThanOrEqual(previous);
      previous = weight;
    }
    expect(manager.influenceWeightOf(0.3)).toBe(0);
    expect(manager.influenceWeightOf(0.1)).toBe(0);
    expect(manager.influenceWeightOf(1)).toBe(1);
    expect(manager.influenceWeightOf(0.65)).toBeCloseTo(0.5 ** 2, 14);
  });

  it("lower scores give higher weight", () => {
    const manager = new ClientReputationManager();
    manager.updateReputation("good", 0.3);
    manager.updateReputation("bad", 0.55);
    expect(manager.getInfluenceWeight("good")).toBeGreaterThan(manager.getInfluenceWeight("bad"));
    expect(manager.getInfluenceWeight("new")).toBe(manager.influenceWeightOf(0.5));
  });
});

describe("ClientReputationManager quarantine", () => {
  it("quarantines by reputation threshold", () => {
    const manager = new ClientReputationManager({
      quarantineThreshold: 0.4,
      consecutiveAnomalyLimit: 10,
      anomalyThreshold: 0.99,
    });
    // Scores of 0.75 stay below the anomaly threshold, so only the reputation rule can fire.
    const results = [1, 2, 3].map((round) => manager.updateReputation("a", 0.75, round));
    expect(results.map((r) => r.quarantined)).toEqual([false, true, true]);
    expect(results[0].reputation).toBeGreaterThanOrEqual(0.4);
    expect(results[1].reputation).toBeLessThan(0.4);
    expect(results[1].newlyQuarantined).toBe(true);
    expect(results[2].newlyQuarantined).toBe(false);
    expect(results[1].quarantineReason).toBe("reputation");
    expect(results[1].consecutiveAnomalies).toBe(0);
    expect(manager.getState("a")?.quarantinedAtRound).toBe(2);
  });

  it("quarantines after k consecutive anomalies", () => {
    const manager = new ClientReputationManager({
      consecutiveAnomalyLimit: 3,
      quarantineThreshold: 0,
    });
    const results = [DIRTY, DIRTY, CLEAN, DIRTY, DIRTY, DIRTY].map((score, i) =>
      manager.updateReputation("a", score, i),
    );
    expect(results.map((r) => r.consecutiveAnomalies)).toEqual([1, 2, 0, 1, 2, 3]);
    expect(results.map((r) => r.newlyQuarantined)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(results[5].quarantineReason).toBe("consecutive_anomalies");
    expect(manager.isQuarantined("a")).toBe(true);
  });

  it("weight is 0 while quarantined", () => {
    const manager = new ClientReputationManager({ consecutiveAnomalyLimit: 1 });
    const result = manager.updateReputation("a", DIRTY);
    expect(result.quarantined).toBe(true);
    expect(result.influenceWeight).toBe(0);
    expect(manager.getInfluenceWeight("a")).toBe(0);
    expect(manager.getReputation("a")).toBeGreaterThan(manager.options.influenceFloor);
  });

  it("probation counts clean rounds and resets on a dirty one", () => {
    const manager = new ClientReputationManager({ consecutiveAnomalyLimit: 1, probationRounds: 3 });
    manager.updateReputation("a", DIRTY, 0);
    const scores = [CLEAN, CLEAN, DIRTY, CLEAN, CLEAN];
    const results = scores.map((score, i) => manager.updateReputation("a", score, i + 1));
    expect(results.map((r) => r.cleanRoundsOnProbation)).toEqual([1, 2, 0, 1, 2]);
    expect(results.every((r) => r.quarantined)).toBe(true);
    expect(results.some((r) => r.newlyQuarantined)).toBe(false);
  });

  it("releases after n clean rounds", () => {
    const manager = new ClientReputationManager({
      consecutiveAnomalyLimit: 1,
      probationRounds: 2,
      releaseReputation: 0.5,
    });
    manager.updateReputation("a", 0.95, 0);
    manager.updateReputation("a", CLEAN, 1);
    const release = manager.updateReputation("a", CLEAN, 2);
    expect(release.released).toBe(true);
    expect(release.quarantined).toBe(false);
    expect(release.cleanRoundsOnProbation).toBe(0);
    expect(release.reputation).toBeGreaterThanOrEqual(0.5);
    expect(release.influenceWeight).toBeGreaterThan(0);
    expect(manager.getState("a")?.releasedBy).toBe("probation");
    const next = manager.updateReputation("a", CLEAN, 3);
    expect(next.quarantined).toBe(false);
    expect(next.released).toBe(false);
  });

  it("operator release", () => {
    const manager = new ClientReputationManager({ consecutiveAnomalyLimit: 1 });
    expect(manager.releaseClient("a", "alice")).toBe(false);
    manager.updateReputation("a", 1, 0);
    expect(manager.isQuarantined("a")).toBe(true);
    expect(manager.releaseClient("a", "alice")).toBe(true);
    expect(manager.isQuarantined("a")).toBe(false);
    expect(manager.getState("a")?.releasedBy).toBe("alice");
    expect(manager.getReputation("a")).toBeGreaterThanOrEqual(manager.options.releaseReputation);
    expect(manager.getInfluenceWeight("a")).toBeGreaterThan(0);
    // A low score average does not put the client straight back in quarantine.
    expect(manager.updateReputation("a", CLEAN, 1).quarantined).toBe(false);
  });

  it("operator quarantine follows probation", () => {
    const manager = new ClientReputationManager({ probationRounds: 1 });
    expect(manager.quarantineClient("a", 4)).toBe(true);
    expect(manager.quarantineClient("a", 4)).toBe(false);
    expect(manager.getState("a")?.quarantineReason).toBe("operator");
    expect(manager.updateReputation("a", CLEAN, 5).released).toBe(true);
  });
});

describe("ClientReputationManager persistence and checks", () => {
  it("JSON round trip", () => {
    const manager = new ClientReputationManager({ alpha: 0.5, consecutiveAnomalyLimit: 2 });
    manager.updateReputation("a", DIRTY, "r1");
    manager.updateReputation("a", DIRTY, "r2");
    manager.updateReputation("b", CLEAN, "r2");
    const restored = ClientReputationManager.fromJSON(JSON.parse(JSON.stringify(manager.toJSON())));
    expect(restored.toJSON()).toEqual(manager.toJSON());
    expect(restored.isQuarantined("a")).toBe(true);
    expect(restored.getReputation("b")).toBe(manager.getReputation("b"));
    expect(restored.updateReputation("a", CLEAN, "r3")).toEqual(
      manager.updateReputation("a", CLEAN, "r3"),
    );
  });

  it("fromJSON rejects corrupt state", () => {
    const json = new ClientReputationManager().toJSON();
    json.clients.a = null as never;
    expect(() => ClientReputationManager.fromJSON(json)).toThrow(
      /json.clients\["a"\] must be a client state/,
    );
    const manager = new ClientReputationManager();
    manager.updateReputation("b", CLEAN);
    const bad = manager.toJSON();
    bad.clients.b.reputation = 2;
    expect(() => ClientReputationManager.fromJSON(bad)).toThrow(
      /json.clients\["b"\].reputation must be a number in \[0, 1\], got 2/,
    );
  });

  it("rejects scores outside [0, 1] and NaN", () => {
    const manager = new ClientReputationManager();
    expect(() => manager.updateReputation("a", 1.5)).toThrow(
      /anomalyScore must be a number in \[0, 1\], got 1.5/,
    );
    expect(() => manager.updateReputation("a", -0.1)).toThrow(/got -0.1/);
    expect(() => manager.updateReputation("a", Number.NaN)).toThrow(/anomalyScore .* got NaN/);
    expect(() => manager.updateReputation("", 0.5)).toThrow(/clientId must be a non-empty string/);
    expect(manager.clientIds()).toEqual([]);
  });

  it("rejects a second score for one round", () => {
    const manager = new ClientReputationManager();
    manager.updateReputation("a", CLEAN, 7);
    expect(() => manager.updateReputation("a", CLEAN, 7)).toThrow(
      /client a already has a score for round 7/,
    );
  });

  it("rejects invalid options", () => {
    expect(() => new ClientReputationManager({ alpha: 0 })).toThrow(
      /options.alpha must be in \(0, 1\], got 0/,
    );
    expect(() => new ClientReputationManager({ probationRounds: 0 })).toThrow(
      /options.probationRounds must be an integer >= 1, got 0/,
    );
    expect(() => new ClientReputationManager({ influenceFloor: 1 })).toThrow(/influenceFloor/);
  });
});
