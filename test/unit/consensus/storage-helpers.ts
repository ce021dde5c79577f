import type {ConfState, WritableRaftStorage} from '../../../src/core/consensus/raft/index.js';

/** Shared by the storage compliance and WAL fault tests. */
export const range = (lo: number, hi: number): number[] => Array.from({length: hi - lo}, (_, i) => lo + i);
export const conf = (...voters: string[]): ConfState => ({voters, learners: []});

/** Everything observable through the interface, with byte arrays as plain arrays. */
export function dump(s: WritableRaftStorage): unknown {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const snap = s.snapshot();
  return {
    init: s.initialState(),
    first,
    last,
    snap: {meta: snap.meta, data: Array.from(snap.data)},
    entries: last >= first ? s.entries(first, last + 1, Infinity).map((e) => ({...e, data: Array.from(e.data)})) : [],
    terms: range(first - 1, last + 1).map((i) => s.term(i)),
  };
}
