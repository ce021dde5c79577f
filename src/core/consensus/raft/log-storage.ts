import {EntryLog} from './entry-log.js';
import type {ConfState, Entry, HardState, Snapshot} from './types.js';

export function cloneConf(c: ConfState): ConfState {
  return {voters: [...c.voters], learners: [...c.learners]};
}

/**
 * The read side both storages share: hard state, latest snapshot and the in-memory entry log.
 * Subclasses decide how changes become durable (not at all, or through the WAL).
 */
export abstract class LogStorage {
  protected hardState: HardState;
  protected snap: Snapshot;
  protected readonly log: EntryLog;

  protected constructor(state: {hardState: HardState; snap: Snapshot; ents?: Entry[]}) {
    this.hardState = state.hardState;
    this.snap = state.snap;
    this.log = new EntryLog(state.ents);
  }

  initialState(): {hardState: HardState; confState: ConfState} {
    return {hardState: {...this.hardState}, confState: cloneConf(this.snap.meta.conf)};
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.log.entries(lo, hi, maxBytes);
  }

  term(i: number): number {
    return this.log.term(i);
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  snapshot(): Snapshot {
    return this.snap;
  }
}
