/**
 * Retry policy of the client SDK: exponential backoff with "equal jitter".
 *
 * Before retry r (r = 0 for the second attempt), the client waits a delay drawn uniformly from
 * [cap / 2, cap], where cap = min(maxDelayMs, baseDelayMs x 2^r). The random half spreads out
 * clients that failed together, for example when a server restart interrupted every upload, so
 * they do not all retry in the same instant. The fixed half keeps a lower bound on every wait,
 * unlike "full jitter" (a delay in [0, cap]), so the schedule is easy to reason about and to test.
 * A Retry-After header in seconds from the server raises the delay, up to maxDelayMs.
 *
 * Only failures where a retry can help are retried: timeouts, network errors, HTTP 429 and every
 * 5xx status. A 4xx response is the server's decision and is returned to the caller at once.
 */

/** How often and how patiently a request is retried. */
export interface RetryPolicy {
  /** Retries after the first attempt, so a request is sent at most maxRetries + 1 times. */
  maxRetries: number;
  /** Upper bound of the first retry's delay, in milliseconds. */
  baseDelayMs: number;
  /** Upper bound of every delay, in milliseconds. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 8000,
});

/** Throws a RangeError naming the field unless `policy` is a valid RetryPolicy; returns it. */
export function assertRetryPolicy(policy: RetryPolicy): RetryPolicy {
  if (policy === null || typeof policy !== "object") {
    throw new TypeError("retry: expected { maxRetries, baseDelayMs, maxDelayMs }");
  }
  const fields: Array<[keyof RetryPolicy, number]> = [
    ["maxRetries", 0],
    ["baseDelayMs", 0],
    ["maxDelayMs", policy.baseDelayMs],
  ];
  for (const [field, min] of fields) {
    const value = policy[field];
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`retry.${field}: expected an integer >= ${min}, got ${String(value)}`);
    }
  }
  return policy;
}

/**
 * Returns the delay before retry `retry` (0 for the second attempt) in milliseconds, in
 * [cap / 2, cap]. `uniform` is a draw from [0, 1); `retryAfterMs`, when given, is a lower bound
 * that is itself capped at maxDelayMs.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  retry: number,
  uniform: number,
  retryAfterMs?: number,
): number {
  assertRetryPolicy(policy);
  if (!Number.isSafeInteger(retry) || retry < 0) {
    throw new RangeError(`retry: expected an integer >= 0, got ${String(retry)}`);
  }
  if (typeof uniform !== "number" || !(uniform >= 0 && uniform < 1)) {
    throw new RangeError(`uniform: expected a number in [0, 1), got ${String(uniform)}`);
  }
  // 2^r overflows to Infinity past r = 1023, and Math.min then returns maxDelayMs.
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const delay = cap / 2 + (uniform * cap) / 2;
  if (retryAfterMs === undefined) return Math.round(delay);
  return Math.round(Math.max(delay, Math.min(retryAfterMs, policy.maxDelayMs)));
}

/** Returns whether a request that got this HTTP status may succeed when sent again. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Parses a Retry-After header (RFC 9110, section 10.2.3): delay seconds or an HTTP date.
 * Returns milliseconds, or undefined for a missing or unreadable value.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
