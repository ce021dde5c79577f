import {foldCodePoint, hiddenClass} from './chars.js';
import type {Span} from './types.js';

/**
 * A matching view of a string: invisible characters dropped and look-alike letters folded to ASCII, with
 * a map back to the original offsets so findings point at what the caller actually has. Pure ASCII text
 * is its own view (no arrays).
 */
export class TextView {
  readonly text: string;
  private readonly starts: Int32Array | null;
  private readonly ends: Int32Array | null;
  /** Per normalized char: FOLDED and/or AFTER_DROP (an invisible was dropped right before it). Evasion evidence. */
  private readonly altered: Uint8Array | null;

  constructor(readonly orig: string) {
    if (!/[^\x00-\x7f]/.test(orig)) {
      this.text = orig;
      this.starts = this.ends = null;
      this.altered = null;
      return;
    }
    const n = orig.length;
    let units = new Uint16Array(n + 16);
    let starts = new Int32Array(n + 16);
    let ends = new Int32Array(n + 16);
    let altered = new Uint8Array(n + 16);
    let len = 0;
    let droppedBefore = false;
    const put = (unit: number, from: number, to: number, flags: number): void => {
      if (len === units.length) {
        // NFKC can expand one code point into several: grow by half.
        const grow = <T extends Uint16Array | Int32Array | Uint8Array>(a: T): T => {
          const b = new (a.constructor as new (n: number) => T)(a.length + (a.length >> 1) + 16);
          b.set(a);
          return b;
        };
        units = grow(units);
        starts = grow(starts);
        ends = grow(ends);
        altered = grow(altered);
      }
      units[len] = unit;
      starts[len] = from;
      ends[len] = to;
      altered[len] = flags;
      len++;
    };
    for (let i = 0; i < n; ) {
      const c = orig.charCodeAt(i);
      if (c < 0x80) {
        put(c, i, i + 1, droppedBefore ? AFTER_DROP : 0);
        droppedBefore = false;
        i++;
        continue;
      }
      const cp = orig.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      if (hiddenClass(cp) !== undefined) {
        droppedBefore = true;
      } else {
        const folded = foldCodePoint(cp);
        const flags = (folded !== undefined ? FOLDED : 0) | (droppedBefore ? AFTER_DROP : 0);
        if (folded !== undefined) for (let k = 0; k < folded.length; k++) put(folded.charCodeAt(k), i, i + w, flags);
        else for (let k = 0; k < w; k++) put(orig.charCodeAt(i + k), i, i + w, flags);
        droppedBefore = false;
      }
      i += w;
    }
    this.text = Buffer.from(units.buffer, units.byteOffset, len * 2).toString('utf16le');
    this.starts = starts.subarray(0, len);
    this.ends = ends.subarray(0, len);
    this.altered = altered.subarray(0, len);
  }

  /** Original span of normalized [start, end). */
  toOrig(span: Span): Span {
    if (!this.starts || !this.ends) return {start: span.start, end: span.end};
    const len = this.text.length;
    const start = span.start < len ? this.starts[span.start]! : this.orig.length;
    const end = span.end > span.start ? this.ends[Math.min(span.end, len) - 1]! : start;
    return {start, end};
  }

  /** Did normalization change anything inside normalized [start, end): a folded letter, or an invisible dropped between two of its chars? */
  alteredWithin(span: Span): boolean {
    if (!this.altered) return false;
    const end = Math.min(span.end, this.altered.length);
    for (let i = span.start; i < end; i++) {
      const f = this.altered[i]!;
      if (f & FOLDED || (f & AFTER_DROP && i > span.start)) return true;
    }
    return false;
  }
}

const FOLDED = 1;
const AFTER_DROP = 2;
