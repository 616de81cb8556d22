import { describe, expect, it } from "vitest";
import {
  assertRetryPolicy,
  backoffDelayMs,
  isRetryableStatus,
  parseRetryAfter,
} from "@/lib/client";

const POLICY = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 8000 };

describe("backoffDelayMs", () => {
  it("doubles the cap per retry", () => {
    const lower = [0, 1, 2, 3, 4].map((retry) => backoffDelayMs(POLICY, retry, 0));
    expect(lower).toEqual([250, 500, 1000, 2000, 4000]);
    const upper = [0, 1, 2, 3, 4].map((retry) => backoffDelayMs(POLICY, retry, 0.999999));
    expect(upper).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it("stays within the maximum", () => {
    expect(backoffDelayMs(POLICY, 10, 0.999999)).toBe(8000);
    expect(backoffDelayMs(POLICY, 10, 0)).toBe(4000);
    expect(backoffDelayMs(POLICY, 5000, 0.5)).toBe(6000);
  });

  it("jitter spreads the delay", () => {
    const delays = new Set(Array.from({ length: 50 }, (_, i) => backoffDelayMs(POLICY, 3, i / 50)));
    expect(delays.size).toBe(50);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(2000);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });

  it("Retry-After raises the delay up to the maximum", () => {
    expect(backoffDelayMs(POLICY, 0, 0, 3000)).toBe(3000);
    expect(backoffDelayMs(POLICY, 0, 0, 100)).toBe(250);
    expect(backoffDelayMs(POLICY, 0, 0, 60_000)).toBe(8000);
  });

  it("rejects invalid arguments", () => {
    expect(() => backoffDelayMs(POLICY, -1, 0)).toThrow(/retry: expected an integer >= 0, got -1/);
    expect(() => backoffDelayMs(POLICY, 0, 1)).toThrow(/uniform: expected a number in \[0, 1\)/);
    expect(() => assertRetryPolicy({ maxRetries: 1, baseDelayMs: 500, maxDelayMs: 100 })).toThrow(
      /retry\.maxDelayMs: expected an integer >= 500, got 100/,
    );
  });
});

describe("retryable statuses", () => {
  it("retries 429 and 5xx only", () => {
    for (const status of [429, 500, 502, 503, 504, 599])
      expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 202, 400, 401, 403, 404, 409, 413, 422]) {
      expect(isRetryableStatus(status)).toBe(false);
    }
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
