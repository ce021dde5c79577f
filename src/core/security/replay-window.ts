/**
 * Sliding-window replay filter for explicit-counter transport messages (RFC 6479 / WireGuard style).
 * Counters may arrive out of order (ZeroMQ drops at its high-water mark and on reconnect) but each is
 * accepted at most once, and anything older than the window is refused.
 *
 * Usage: `check(n)` before the (costly) decrypt, `accept(n)` only after authentication succeeded,
 * so a forged frame cannot poison the window.
 */
export class ReplayWindow {
  private highest = -1;
  private readonly bits: Uint32Array;

  constructor(readonly size = 2048) {
    if (size % 32 !== 0 || size <= 0) throw new Error('window size must be a positive multiple of 32');
    this.bits = new Uint32Array(size / 32);
  }

  /** True when `n` is new and inside the window (not yet seen). Pure: changes nothing. */
  check(n: number): boolean {
    if (!Number.isSafeInteger(n) || n < 0) return false;
    if (n > this.highest) return true;
    if (this.highest - n >= this.size) return false;
    return !this.get(n);
  }

  /** Records `n` as seen. Invariant: called only after check(n) was true and the frame authenticated. */
  accept(n: number): void {
    if (n > this.highest) {
      const shift = n - this.highest;
      if (shift >= this.size) {
        this.bits.fill(0);
      } else {
        for (let i = this.highest + 1; i < n; i++) this.clear(i);
      }
      this.highest = n;
    }
    this.set(n);
  }

  private slot(n: number): [number, number] {
    const bit = n % this.size;
    return [bit >>> 5, 1 << (bit & 31)];
  }
  private get(n: number): boolean {
    const [w, m] = this.slot(n);
    return (this.bits[w]! & m) !== 0;
  }
  private set(n: number): void {
    const [w, m] = this.slot(n);
    this.bits[w]! |= m;
  }
  private clear(n: number): void {
    const [w, m] = this.slot(n);
    this.bits[w]! &= ~m;
  }
}
