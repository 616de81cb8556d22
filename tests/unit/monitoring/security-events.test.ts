import { describe, expect, it } from "vitest";
import { canonicalJson, computeEventHash, GENESIS_HASH } from "@/lib/monitoring/security-events";

const event = {
  id: "00000000-0000-4000-8000-000000000001",
  type: "system" as const,
  severity: "low" as const,
  clientId: null,
  operatorId: null,
  description: "started",
  metadata: { b: 1, a: { d: [1, "x"], c: null } },
  timestamp: new Date("2026-01-01T00:00:00.000Z"),
};

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: undefined }] } })).toBe(
      '{"a":{"c":[3,{"f":1}],"d":2},"b":1}',
    );
  });

  it("writes dates as ISO strings", () => {
    expect(canonicalJson({ t: new Date("2026-01-01T00:00:00Z") })).toBe(
      '{"t":"2026-01-01T00:00:00.000Z"}',
    );
  });
});

describe("computeEventHash", () => {
  it("does not depend on metadata key order", () => {
    const reordered = { ...event, metadata: { a: { c: null, d: [1, "x"] }, b: 1 } };
    expect(computeEventHash(GENESIS_HASH, reordered)).toBe(computeEventHash(GENESIS_HASH, event));
  });

  it("changes with the previous hash and every field", () => {
    const base = computeEventHash(GENESIS_HASH, event);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(computeEventHash("1".repeat(64), event)).not.toBe(base);
    const variants = [
      { ...event, id: "00000000-0000-4000-8000-000000000002" },
      { ...event, type: "operator_action" as const },
      { ...event, severity: "high" as const },
      { ...event, clientId: "c1" },
      { ...event, operatorId: "op" },
      { ...event, description: "stopped" },
      { ...event, metadata: { ...event.metadata, b: 2 } },
      { ...event, timestamp: new Date("2026-01-01T00:00:00.001Z") },
    ];
    for (const variant of variants) expect(computeEventHash(GENESIS_HASH, variant)).not.toBe(base);
  });
});
