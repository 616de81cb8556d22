/**
 * Alert notifications as an HTTP POST of JSON to config.monitoring.webhookUrl.
 *
 * A network error, a timeout, a 5xx or a 429 response is retried with exponential backoff:
 * the delay before attempt n + 1 is min(initialDelayMs * 2^(n-1), maxDelayMs). Other 4xx responses
 * mean the receiver rejects the payload, so they are not retried. Every failed attempt and the
 * final failure are logged with the URL's origin only, because the path or query may carry a
 * token. sendWebhook never throws on delivery failure: it returns the outcome.
 */
import { logger } from "../logger";

export interface WebhookOptions {
  /** Attempts in all, the first included (default 4). */
  maxAttempts?: number;
  /** Delay before the second attempt, in milliseconds (default 500). */
  initialDelayMs?: number;
  /** Upper bound on any delay between attempts, in milliseconds (default 8000). */
  maxDelayMs?: number;
  /** Limit on each attempt, connection and response included, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export interface WebhookResult {
  ok: boolean;
  attempts: number;
  /** HTTP status of the last response, or null when none arrived. */
  status: number | null;
  /** Failure reason of the last attempt, when it failed. */
  error?: string;
}

const DEFAULTS = { maxAttempts: 4, initialDelayMs: 500, maxDelayMs: 8_000, timeoutMs: 5_000 };

/** Returns the delay in milliseconds after failed attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  return Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs);
}

/** POSTs `payload` as JSON to `url`, retrying as described in the module comment. */
export async function sendWebhook(
  url: string,
  payload: unknown,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`invalid webhook URL ${JSON.stringify(url)}, expected an absolute URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new RangeError(
      `invalid webhook URL protocol "${parsed.protocol}", expected http or https`,
    );
  }
  const settings = { ...DEFAULTS, ...options };
  for (const key of ["maxAttempts", "initialDelayMs", "maxDelayMs", "timeoutMs"] as const) {
    const value = settings[key];
    const minimum = key === "maxAttempts" || key === "timeoutMs" ? 1 : 0;
    if (!Number.isInteger(value) || value < minimum) {
      throw new RangeError(`invalid ${key} ${value}, expected an integer of at least ${minimum}`);
    }
  }
  const body = JSON.stringify(payload);
  const target = parsed.origin;

  let last: WebhookResult = { ok: false, attempts: 0, status: null };
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    let retryable: boolean;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers },
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
        redirect: "error",
      });
      await response.body?.cancel();
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      retryable = response.status >= 500 || response.status === 429;
      last = {
        ok: false,
        attempts: attempt,
        status: response.status,
        error: `HTTP ${response.status}`,
      };
    } catch (error) {
      const err = error as Error;
      const reason =
        err.name === "TimeoutError" ? `timed out after ${settings.timeoutMs} ms` : err.message;
      const cause = (err.cause as Error | undefined)?.message;
      retryable = true;
      last = {
        ok: false,
        attempts: attempt,
        status: null,
        error: cause ? `${reason}: ${cause}` : reason,
      };
    }
    const final = !retryable || attempt === settings.maxAttempts;
    if (final) break;
    const delayMs = backoffDelay(attempt, settings.initialDelayMs, settings.maxDelayMs);
    logger.warn(
      { target, attempt, status: last.status, error: last.error, retryInMs: delayMs },
      "webhook delivery failed, retrying",
    );
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  logger.error(
    { target, attempts: last.attempts, status: last.status, error: last.error },
    "webhook delivery failed after the last attempt",
  );
  return last;
}
