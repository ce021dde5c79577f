/**
 * A fixed-size bitset over op indices, used as the "which ops are already linearized" part of
 * the search's memoization key. Hand-rolled on Uint32Array because the search mutates it on
 * every step and only needs set/clear/has, subset tests and a cheap, canonical string form.
 */
export class Bitset {
  private readonly words: Uint32Array;

  /** A bitset able to hold indices 0..size-1, initially all clear. */
  constructor(readonly size: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
  }

  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }

  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }

  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** A copy of the current bits, for later {@link isSupersetOf} checks. */
  snapshot(): Uint32Array {
    return this.words.slice();
  }

  /** Whether every bit set in `other` (a snapshot of a bitset of the same size) is set here. */
  isSupersetOf(other: Uint32Array): boolean {
    for (let i = 0; i < this.words.length; i++) {
      if ((other[i]! & ~this.words[i]!) !== 0) return false;
    }
    return true;
  }

  /**
   * Canonical string form: two bitsets of the same size have equal keys iff they hold the same
   * bits. Contains only [0-9a-z,], so callers may append other data after a separator.
   */
  key(): string {
    let s = '';
    for (const w of this.words) s += w.toString(36) + ',';
    return s;
  }
}
