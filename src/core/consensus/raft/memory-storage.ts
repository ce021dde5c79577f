import {assert} from '../../errors.js';
import {cloneConf, LogStorage} from './log-storage.js';
import type {ConfState, Entry, HardState, Snapshot, WritableRaftStorage} from './types.js';

/**
 * In-memory RaftStorage: what the simulator uses as a node's "disk" (it survives a simulated crash)
 * and the reference the file storage is checked against. `ents[0]` is a dummy entry at the snapshot
 * index holding the snapshot's term, so term(firstIndex-1) is always answerable.
 */
export class MemoryStorage extends LogStorage implements WritableRaftStorage {
  constructor() {
    super({hardState: {term: 0, vote: '', commit: 0}, snap: {meta: {index: 0, term: 0, conf: {voters: [], learners: []}}, data: new Uint8Array()}});
  }

  /** A fresh storage whose initial membership is `voters` (bootstrap). */
  static bootstrap(voters: string[]): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = {meta: {index: 0, term: 0, conf: {voters: [...voters], learners: []}}, data: new Uint8Array()};
    return s;
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
    this.log.append(this.log.fresh(entries));
  }

  /** Replaces everything with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) return;
    this.snap = snap;
    this.log.reset(snap.meta);
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
    this.log.compact(index);
  }
}
