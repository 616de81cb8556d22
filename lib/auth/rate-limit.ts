/**
 * A fixed-window counter of failed sign-ins per key (email and client address), kept in the web
 * process's memory.
 */
// NOTE: counts are per process, so several web processes behind a load balancer each allow the
// configured number of failures.
export class FailureRateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs = 60_000,
  ) {}

  isBlocked(key: string, now = Date.now()): boolean {
    return this.recent(key, now).length >= this.maxFailures;
  }

  recordFailure(key: string, now = Date.now()): number {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.set(key, recent);
    return recent.length;
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }
}
