import { describe, expect, it } from "vitest";
import { assertMetricName, normalizeLabels } from "@/lib/monitoring/metrics";
import { isAuthorizedScrape } from "@/lib/monitoring/prometheus";

describe("assertMetricName", () => {
  it.each(["a", "_x", "round_duration_seconds", "job:rate5m", "A1_b2"])("accepts %s", (name) => {
    expect(() => assertMetricName(name)).not.toThrow();
  });

  it.each(["", "1abc", "with-dash", "with space", "é"])("rejects %j", (name) => {
    expect(() => assertMetricName(name)).toThrow(/invalid metric name/);
  });
});

describe("normalizeLabels", () => {
  it("sorts keys", () => {
    expect(Object.keys(normalizeLabels({ z: "1", a: "2", m: "3" }))).toEqual(["a", "m", "z"]);
  });

  it("rejects reserved, malformed and non-string labels", () => {
    expect(() => normalizeLabels({ __name__: "x" })).toThrow(/invalid label name "__name__"/);
    expect(() => normalizeLabels({ "a:b": "x" })).toThrow(/invalid label name "a:b"/);
    expect(() => normalizeLabels({ a: 1 as unknown as string })).toThrow(
      /invalid value 1 for label "a"/,
    );
    expect(() => normalizeLabels([] as unknown as Record<string, string>)).toThrow(
      /invalid labels/,
    );
  });
});

describe("isAuthorizedScrape", () => {
  const token = "s3cr3t-token";

  it("accepts the bearer token", () => {
    expect(isAuthorizedScrape(`Bearer ${token}`, token)).toBe(true);
    expect(isAuthorizedScrape(`bearer ${token}`, token)).toBe(true);
  });

  it.each([
    null,
    "",
    "Bearer",
    "Bearer ",
    `Bearer ${token}x`,
    `Bearer ${token.slice(1)}`,
    `Basic ${token}`,
    token,
    `Bearer ${token} extra`,
  ])("rejects %j", (header) => {
    expect(isAuthorizedScrape(header, token)).toBe(false);
  });

  it("refuses an empty expected token", () => {
    expect(() => isAuthorizedScrape("Bearer x", "")).toThrow(/invalid expectedToken/);
  });
});
