import {assert} from '../../errors.js';
import {CompactedError, UnavailableError} from './types.js';
import type {Entry} from './types.js';

/**
 * The in-memory log both storages keep: `ents[0]` is a dummy entry at the compaction point (the
 * snapshot index) holding that entry's term, so term(firstIndex - 1) is always answerable.
 * Invariant: ents is never empty and its indexes are contiguous.
 */
export class EntryLog {
  private ents: Entry[];

  /** `ents` starts with the dummy; it is taken over, not copied. */
  constructor(ents: Entry[] = [dummyEntry({index: 0, term: 0})]) {
    assert(ents.length > 0, 'entry log needs its dummy entry');
    this.ents = ents;
  }

  /** Entries in [lo, hi), at most `maxBytes` of data but always at least one. */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new CompactedError(`entries ${lo}: compacted (first ${offset + 1})`);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(`entries up to ${hi - 1}: last is ${this.lastIndex()}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - offset]!;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new CompactedError(`term ${i}: compacted`);
    if (i > this.lastIndex()) throw new UnavailableError(`term ${i}: last is ${this.lastIndex()}`);
    return this.ents[i - offset]!.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  /** The entries not already covered by the compaction point; asserts there is no gap. */
  fresh(entries: Entry[]): Entry[] {
    if (entries.length === 0) return [];
    const first = this.firstIndex();
    const start = entries[0]!.index;
    assert(start <= this.lastIndex() + 1, `append at ${start} leaves a gap after ${this.lastIndex()}`);
    return start < first ? entries.slice(first - start) : entries;
  }

  /** Appends `fresh` entries (see fresh()), replacing any existing suffix from the first new index. */
  append(fresh: Entry[]): void {
    if (fresh.length === 0) return;
    this.ents.length = fresh[0]!.index - this.ents[0]!.index;
    for (const e of fresh) this.ents.push(e);
  }

  /** Drops everything; the log restarts after (index, term). */
  reset(at: {index: number; term: number}): void {
    this.ents = [dummyEntry(at)];
  }

  /** Drops entries up to and including `index`, keeping its term in the dummy. */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) return;
    assert(index <= this.lastIndex(), `compact ${index} beyond last ${this.lastIndex()}`);
    this.ents = [dummyEntry(this.ents[index - offset]!), ...this.ents.slice(index - offset + 1)];
  }

  /** The dummy first, then every entry; owned by the log (read-only for callers). */
  all(): readonly Entry[] {
    return this.ents;
  }
}

export function dummyEntry(at: {index: number; term: number}): Entry {
  return {term: at.term, index: at.index, type: 'normal', data: new Uint8Array()};
}
