/**
 * Token bucket per key, driven by the caller's clock (no timers inside), with a bounded number of
 * keys so a flood of distinct senders cannot grow memory without limit.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, {tokens: number; atMs: number}>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxKeys = 4096,
  ) {}

  /** Takes one token for `key`; false means rate exceeded. */
  take(key: string, nowMs: number): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.evictOldest();
      b = {tokens: this.burst, atMs: nowMs};
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.atMs) / 1000) * this.ratePerSec);
    b.atMs = nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  private evictOldest(): void {
    const first = this.buckets.keys().next();
    if (!first.done) this.buckets.delete(first.value);
  }
}
