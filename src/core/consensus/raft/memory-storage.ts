import {assert} from '../../errors.js';
import {CompactedError, UnavailableError} from './types.js';
import type {ConfState, Entry, HardState, Snapshot, WritableRaftStorage} from './types.js';

/**
 * In-memory RaftStorage: what the simulator uses as a node's "disk" (it survives a simulated crash)
 * and the reference the file storage is checked against. `ents[0]` is a dummy entry at the snapshot
 * index holding the snapshot's term, so term(firstIndex-1) is always answerable.
 */
export class MemoryStorage implements WritableRaftStorage {
  private hardState: HardState = {term: 0, vote: '', commit: 0};
  private snap: Snapshot = {meta: {index: 0, term: 0, conf: {voters: [], learners: []}}, data: new Uint8Array()};
  private ents: Entry[] = [{term: 0, index: 0, type: 'normal', data: new Uint8Array()}];

  /** A fresh storage whose initial membership is `voters` (bootstrap). */
  static bootstrap(voters: string[]): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = {meta: {index: 0, term: 0, conf: {voters: [...voters], learners: []}}, data: new Uint8Array()};
    return s;
  }

  initialState(): {hardState: HardState; confState: ConfState} {
    return {hardState: {...this.hardState}, confState: cloneConf(this.snap.meta.conf)};
  }

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

  snapshot(): Snapshot {
    return this.snap;
  }

  // ---- mutators: what the driver does with a Ready ------------------------------------------------

  setHardState(hs: HardState): void {
    this.hardState = {...hs};
  }

  save(hs: HardState | undefined, entries: Entry[]): void {
    this.append(entries);
    if (hs) this.setHardState(hs);
  }

  /** Appends entries, replacing any existing suffix from the first new index (a conflict). */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const start = entries[0]!.index;
    assert(start <= this.lastIndex() + 1, `append at ${start} leaves a gap after ${this.lastIndex()}`);
    // Entries before our first index are already in the snapshot.
    const fresh = start < first ? entries.slice(first - start) : entries;
    if (fresh.length === 0) return;
    const offset = this.ents[0]!.index;
    this.ents.length = fresh[0]!.index - offset;
    for (const e of fresh) this.ents.push(e);
  }

  /** Replaces everything with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) return;
    this.snap = snap;
    this.ents = [{term: snap.meta.term, index: snap.meta.index, type: 'normal', data: new Uint8Array()}];
  }

  /** Records a snapshot of the applied state at `index` (<= applied) and compacts the log up to it. */
  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    assert(index <= this.lastIndex(), `snapshot ${index} beyond last ${this.lastIndex()}`);
    this.snap = {meta: {index, term: this.term(index), conf: cloneConf(conf)}, data};
    this.compact(index);
    return this.snap;
  }

  /** Drops entries up to and including `index` (keeping its term as the dummy). */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) return;
    assert(index <= this.lastIndex(), `compact ${index} beyond last ${this.lastIndex()}`);
    const dummy = this.ents[index - offset]!;
    this.ents = [{term: dummy.term, index: dummy.index, type: 'normal', data: new Uint8Array()}, ...this.ents.slice(index - offset + 1)];
  }
}

export function cloneConf(c: ConfState): ConfState {
  return {voters: [...c.voters], learners: [...c.learners]};
}
