import { describe, expect, it } from "vitest";
import type { Alert, Comparator } from "@/lib/generated/prisma/client";
import { alertFingerprint, buildWebhookPayload, compareThreshold } from "@/lib/monitoring/alerts";

describe("compareThreshold", () => {
  const cases: [Comparator, boolean, boolean, boolean][] = [
    // comparator, 4 vs 5, 5 vs 5, 6 vs 5
    ["gt", false, false, true],
    ["gte", false, true, true],
    ["lt", true, false, false],
    ["lte", true, true, false],
    ["eq", false, true, false],
    ["ne", true, false, true],
  ];
  it.each(cases)("%s", (comparator, below, equal, above) => {
    expect(compareThreshold(4, comparator, 5)).toBe(below);
    expect(compareThreshold(5, comparator, 5)).toBe(equal);
    expect(compareThreshold(6, comparator, 5)).toBe(above);
  });

  it("rejects an unknown comparator", () => {
    expect(() => compareThreshold(1, "between" as Comparator, 2)).toThrow(
      /invalid comparator "between"/,
    );
  });
});

describe("alertFingerprint", () => {
  it("ignores label order", () => {
    expect(alertFingerprint({ ruleId: "r1" }, { a: "1", b: "2" })).toBe(
      alertFingerprint({ ruleId: "r1" }, { b: "2", a: "1" }),
    );
  });

  it("differs by rule, title and labels", () => {
    const base = alertFingerprint({ ruleId: "r1" }, { a: "1" });
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(alertFingerprint({ ruleId: "r2" }, { a: "1" })).not.toBe(base);
    expect(alertFingerprint({ ruleId: "r1" }, { a: "2" })).not.toBe(base);
    expect(alertFingerprint({ title: "r1" }, { a: "1" })).not.toBe(base);
  });
});

describe("buildWebhookPayload", () => {
  it("serialises dates and keeps the alert fields", () => {
    const alert: Alert = {
      id: "a1",
      ruleId: null,
      fingerprint: "f".repeat(64),
      title: "quorum lost",
      description: "2 of 5",
      severity: "critical",
      state: "open",
      labels: { federation_id: "f1" },
      value: 2,
      count: 3,
      firstSeenAt: new Date("2026-01-01T00:00:00Z"),
      lastSeenAt: new Date("2026-01-01T00:05:00Z"),
      acknowledgedAt: null,
      acknowledgedById: null,
      acknowledgementNote: null,
      resolvedAt: null,
      resolvedById: null,
      resolutionNote: null,
      autoResolved: false,
    };
    const payload = buildWebhookPayload(
      { status: "firing", alert, ruleName: null },
      new Date("2026-01-01T00:05:01Z"),
    );
    expect(payload).toEqual({
      version: "1",
      source: "qsfl-caad",
      status: "firing",
      sentAt: "2026-01-01T00:05:01.000Z",
      alert: {
        id: "a1",
        fingerprint: "f".repeat(64),
        ruleId: null,
        ruleName: null,
        title: "quorum lost",
        description: "2 of 5",
        severity: "critical",
        state: "open",
        labels: { federation_id: "f1" },
        value: 2,
        count: 3,
        firstSeenAt: "2026-01-01T00:00:00.000Z",
        lastSeenAt: "2026-01-01T00:05:00.000Z",
        acknowledgedAt: null,
        resolvedAt: null,
        autoResolved: false,
      },
    });
  });
});
