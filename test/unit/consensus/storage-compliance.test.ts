import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {MemoryStorage} from '../../../src/core/consensus/raft/memory-storage.js';
import {CompactedError, UnavailableError} from '../../../src/core/consensus/raft/types.js';
import type {Entry, Snapshot, WritableRaftStorage} from '../../../src/core/consensus/raft/types.js';
import {FileStorage} from '../../../src/core/consensus/raft/wal/index.js';
import {mulberry32} from '../../sim/rng.js';
import {conf, dump, range} from './storage-helpers.js';

// ---- helpers -----------------------------------------------------------------------------

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raft-storage-'));
  dirs.push(d);
  return d;
}
const open: FileStorage[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true});
});

function ent(index: number, term: number, data: number[] | string = [index], type: Entry['type'] = 'normal'): Entry {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : new Uint8Array(data);
  return {index, term, type, data: bytes};
}


interface Factory {
  name: string;
  create(voters?: string[]): WritableRaftStorage;
  /** What a restart does: the same storage for memory, close + open for files. */
  reopen(s: WritableRaftStorage): WritableRaftStorage;
}

const dirOf = new WeakMap<WritableRaftStorage, string>();
function track(s: FileStorage, dir: string): FileStorage {
  dirOf.set(s, dir);
  open.push(s);
  return s;
}

const factories: Factory[] = [
  {
    name: 'MemoryStorage',
    create: (voters) => (voters ? MemoryStorage.bootstrap(voters) : new MemoryStorage()),
    reopen: (s) => s,
  },
  {
    name: 'FileStorage',
    create: (voters) => {
      const dir = tempDir();
      return track(voters ? FileStorage.bootstrap(dir, voters) : FileStorage.open(dir), dir);
    },
    reopen: (s) => {
      const dir = dirOf.get(s)!;
      (s as FileStorage).close();
      return track(FileStorage.open(dir), dir);
    },
  },
];

// ---- the shared suite --------------------------------------------------------------------

describe.each(factories)('$name compliance', (f) => {
  /** Runs `check` on the storage, then again after a restart. */
  function checkTwice(s: WritableRaftStorage, check: (s: WritableRaftStorage) => void): WritableRaftStorage {
    check(s);
    const r = f.reopen(s);
    check(r);
    return r;
  }

  test('a fresh storage is empty', () => {
    checkTwice(f.create(), (s) => {
      expect(s.initialState()).toEqual({hardState: {term: 0, vote: '', commit: 0}, confState: conf()});
      expect([s.firstIndex(), s.lastIndex(), s.term(0)]).toEqual([1, 0, 0]);
      expect(s.snapshot().meta).toEqual({index: 0, term: 0, conf: conf()});
      expect(s.snapshot().data.length).toBe(0);
    });
  });

  test('bootstrap sets the initial membership', () => {
    checkTwice(f.create(['a', 'b', 'c']), (s) => {
      expect(s.initialState().confState).toEqual(conf('a', 'b', 'c'));
      expect(s.snapshot().meta).toEqual({index: 0, term: 0, conf: conf('a', 'b', 'c')});
    });
  });

  test('initialState returns copies', () => {
    const s = f.create(['a']);
    s.initialState().confState.voters.push('x');
    const hs = {term: 3, vote: 'a', commit: 0};
    s.setHardState(hs);
    hs.term = 99;
    expect(s.initialState()).toEqual({hardState: {term: 3, vote: 'a', commit: 0}, confState: conf('a')});
  });

  test('append, entries, term, firstIndex, lastIndex', () => {
    const s = f.create(['a']);
    const ents = [ent(1, 1), ent(2, 1, 'two'), ent(3, 2, [], 'conf'), ent(4, 2), ent(5, 3)];
    s.append(ents.slice(0, 2));
    s.append(ents.slice(2));
    s.append([]);
    checkTwice(s, (s) => {
      expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 5]);
      expect(s.entries(1, 6, Infinity)).toEqual(ents);
      expect(s.entries(2, 4, Infinity)).toEqual(ents.slice(1, 3));
      expect(range(0, 6).map((i) => s.term(i))).toEqual([0, 1, 1, 2, 2, 3]);
    });
  });

  test('a conflicting append replaces the suffix', () => {
    let s = f.create(['a']);
    s.append(range(1, 6).map((i) => ent(i, 1)));
    s.append([ent(3, 2, 'x'), ent(4, 2, 'y')]);
    s = checkTwice(s, (s) => {
      expect(s.lastIndex()).toBe(4);
      expect(s.entries(1, 5, Infinity)).toEqual([ent(1, 1), ent(2, 1), ent(3, 2, 'x'), ent(4, 2, 'y')]);
    });
    // Replacing from the very first index, then extending.
    s.append([ent(1, 3), ent(2, 3)]);
    s.append([ent(3, 3)]);
    checkTwice(s, (s) => expect(s.entries(1, 4, Infinity)).toEqual([ent(1, 3), ent(2, 3), ent(3, 3)]));
  });

  test('an append leaving a gap is refused and changes nothing', () => {
    const s = f.create(['a']);
    s.append([ent(1, 1)]);
    expect(() => s.append([ent(3, 1)])).toThrow(/gap/);
    checkTwice(s, (s) => expect(s.lastIndex()).toBe(1));
  });

  test('entries at or below the snapshot are ignored by append', () => {
    const s = f.create(['a']);
    s.append(range(1, 6).map((i) => ent(i, 1)));
    s.createSnapshot(3, conf('a'), new Uint8Array([9]));
    s.append([ent(2, 1), ent(3, 1)]); // all already in the snapshot
    s.append([ent(3, 1), ent(4, 2), ent(5, 2), ent(6, 2)]);
    checkTwice(s, (s) => {
      expect([s.firstIndex(), s.lastIndex(), s.term(3)]).toEqual([4, 6, 1]);
      expect(s.entries(4, 7, Infinity)).toEqual([ent(4, 2), ent(5, 2), ent(6, 2)]);
    });
  });

  test('maxBytes limits entries but always returns at least one', () => {
    const s = f.create(['a']);
    s.append(range(1, 6).map((i) => ent(i, 1, new Array<number>(10).fill(i))));
    checkTwice(s, (s) => {
      expect(s.entries(1, 6, 0).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 6, 9).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 6, 20).map((e) => e.index)).toEqual([1, 2]);
      expect(s.entries(1, 6, 29).map((e) => e.index)).toEqual([1, 2]);
      expect(s.entries(2, 6, 30).map((e) => e.index)).toEqual([2, 3, 4]);
      expect(s.entries(1, 6, Infinity)).toHaveLength(5);
    });
  });

  test('CompactedError and UnavailableError bounds', () => {
    const s = f.create(['a']);
    s.append(range(1, 6).map((i) => ent(i, i)));
    s.compact(2);
    checkTwice(s, (s) => {
      expect([s.firstIndex(), s.lastIndex()]).toEqual([3, 5]);
      expect(() => s.entries(2, 4, Infinity)).toThrow(CompactedError);
      expect(() => s.entries(3, 7, Infinity)).toThrow(UnavailableError);
      expect(s.entries(3, 6, Infinity).map((e) => e.index)).toEqual([3, 4, 5]);
      expect(() => s.term(1)).toThrow(CompactedError);
      expect(s.term(2)).toBe(2); // the compaction point keeps its term
      expect(() => s.term(6)).toThrow(UnavailableError);
    });
  });

  test('compact: no-op at or below the first index, refused beyond the last', () => {
    let s = f.create(['a']);
    s.append(range(1, 4).map((i) => ent(i, 1)));
    s.compact(2);
    s.compact(2);
    s.compact(1);
    expect(() => s.compact(4)).toThrow(/beyond last/);
    s = checkTwice(s, (s) => expect([s.firstIndex(), s.lastIndex(), s.snapshot().meta.index]).toEqual([3, 3, 0]));
    s.compact(3); // everything
    checkTwice(s, (s) => expect([s.firstIndex(), s.lastIndex(), s.term(3)]).toEqual([4, 3, 1]));
  });

  test('createSnapshot records the snapshot and compacts, keeping term(snapshotIndex)', () => {
    let s = f.create(['a']);
    s.append(range(1, 8).map((i) => ent(i, i < 4 ? 1 : 2)));
    const snap = s.createSnapshot(4, conf('a', 'b'), new Uint8Array([1, 2, 3]));
    expect(snap.meta).toEqual({index: 4, term: 2, conf: conf('a', 'b')});
    s = checkTwice(s, (s) => {
      expect(s.snapshot().meta).toEqual({index: 4, term: 2, conf: conf('a', 'b')});
      expect(Array.from(s.snapshot().data)).toEqual([1, 2, 3]);
      expect(s.initialState().confState).toEqual(conf('a', 'b'));
      expect([s.firstIndex(), s.lastIndex(), s.term(4)]).toEqual([5, 7, 2]);
      expect(() => s.term(3)).toThrow(CompactedError);
    });
    // Not newer: returns the current one, unchanged.
    expect(s.createSnapshot(3, conf('z'), new Uint8Array([7])).meta.index).toBe(4);
    expect(() => s.createSnapshot(8, conf('a'), new Uint8Array())).toThrow(/beyond last/);
    // A second snapshot; the log keeps growing after it.
    s.createSnapshot(6, conf('a', 'b', 'c'), new Uint8Array([6]));
    s.append([ent(8, 3)]);
    checkTwice(s, (s) => {
      expect(s.snapshot().meta).toEqual({index: 6, term: 2, conf: conf('a', 'b', 'c')});
      expect([s.firstIndex(), s.lastIndex()]).toEqual([7, 8]);
      expect(s.entries(7, 9, Infinity)).toEqual([ent(7, 2), ent(8, 3)]);
    });
  });

  test('createSnapshot below a compaction point is a CompactedError', () => {
    const s = f.create(['a']);
    s.append(range(1, 6).map((i) => ent(i, 1)));
    s.compact(4);
    expect(() => s.createSnapshot(2, conf('a'), new Uint8Array())).toThrow(CompactedError);
    checkTwice(s, (s) => expect([s.firstIndex(), s.snapshot().meta.index]).toEqual([5, 0]));
  });

  test('applySnapshot resets the log; an older one is ignored', () => {
    let s = f.create(['a']);
    s.append(range(1, 6).map((i) => ent(i, 1)));
    const snap: Snapshot = {meta: {index: 10, term: 4, conf: conf('a', 'b')}, data: new Uint8Array([4, 2])};
    s.applySnapshot(snap);
    s = checkTwice(s, (s) => {
      expect(s.snapshot().meta).toEqual(snap.meta);
      expect(Array.from(s.snapshot().data)).toEqual([4, 2]);
      expect([s.firstIndex(), s.lastIndex(), s.term(10)]).toEqual([11, 10, 4]);
      expect(() => s.entries(10, 11, Infinity)).toThrow(CompactedError);
      expect(() => s.entries(11, 12, Infinity)).toThrow(UnavailableError);
    });
    s.applySnapshot({meta: {index: 10, term: 5, conf: conf('q')}, data: new Uint8Array()});
    s.applySnapshot({meta: {index: 3, term: 1, conf: conf('q')}, data: new Uint8Array()});
    s.append([ent(11, 4), ent(12, 5)]);
    checkTwice(s, (s) => {
      expect(s.snapshot().meta).toEqual(snap.meta);
      expect(s.entries(11, 13, Infinity)).toEqual([ent(11, 4), ent(12, 5)]);
    });
  });

  test('applySnapshot behind the last index still drops the whole log', () => {
    const s = f.create(['a']);
    s.append(range(1, 9).map((i) => ent(i, 1)));
    s.applySnapshot({meta: {index: 4, term: 1, conf: conf('a')}, data: new Uint8Array()});
    checkTwice(s, (s) => expect([s.firstIndex(), s.lastIndex()]).toEqual([5, 4]));
  });

  test('setHardState round trip', () => {
    let s = f.create(['a']);
    s.append([ent(1, 1), ent(2, 2)]);
    s.setHardState({term: 2, vote: 'a', commit: 1});
    s = checkTwice(s, (s) => expect(s.initialState().hardState).toEqual({term: 2, vote: 'a', commit: 1}));
    s.setHardState({term: 3, vote: '', commit: 2});
    checkTwice(s, (s) => expect(s.initialState().hardState).toEqual({term: 3, vote: '', commit: 2}));
  });
});

// ---- FileStorage == MemoryStorage under random operations and restarts -------------------


type Outcome = {ok: unknown} | {err: string};
function outcome(fn: () => unknown): Outcome {
  try {
    const v = fn();
    return {ok: v === undefined ? null : v};
  } catch (e) {
    return {err: e instanceof Error ? `${e.name}: ${e.message}` : String(e)};
  }
}
const snapView = (x: unknown): unknown => {
  const s = x as Snapshot;
  return {meta: s.meta, data: Array.from(s.data)};
};

describe('FileStorage matches MemoryStorage', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('random operations with restarts (seed %i)', (seed) => {
    const rand = mulberry32(seed);
    const int = (n: number): number => Math.floor(rand() * n);
    const dir = tempDir();
    // A tiny segment size makes compact() rotate segments too.
    const opts = {segmentBytes: seed % 2 === 0 ? 256 : 64 << 20};
    const mem = MemoryStorage.bootstrap(['n1', 'n2']);
    let file = track(FileStorage.bootstrap(dir, ['n1', 'n2'], opts), dir);
    let term = 1;
    const log: string[] = [];
    for (let step = 0; step < 300; step++) {
      const first = mem.firstIndex();
      const last = mem.lastIndex();
      const r = rand();
      let op: (s: WritableRaftStorage) => unknown;
      let what: string;
      if (r < 0.4) {
        if (rand() < 0.3) term += 1;
        const start = Math.max(1, first - 2 + int(last - first + 4)); // sometimes below first, sometimes a gap
        const ents = range(start, start + 1 + int(4)).map((i) => ent(i, term, range(0, int(20)).map(() => int(256)), rand() < 0.1 ? 'conf' : 'normal'));
        op = (s) => s.append(ents);
        what = `append ${start}..${start + ents.length - 1}@${term}`;
      } else if (r < 0.55) {
        const hs = {term, vote: rand() < 0.5 ? '' : `n${int(3)}`, commit: int(last + 1)};
        op = (s) => s.setHardState(hs);
        what = `hardstate ${JSON.stringify(hs)}`;
      } else if (r < 0.7) {
        const i = mem.snapshot().meta.index - 1 + int(last - mem.snapshot().meta.index + 3);
        const c = conf(...range(0, 1 + int(3)).map((k) => `n${k}`));
        const data = new Uint8Array(range(0, int(30)).map(() => int(256)));
        op = (s) => snapView(s.createSnapshot(i, c, data));
        what = `createSnapshot ${i}`;
      } else if (r < 0.8) {
        const i = first - 2 + int(last - first + 4);
        op = (s) => s.compact(i);
        what = `compact ${i}`;
      } else if (r < 0.87) {
        const i = mem.snapshot().meta.index - 1 + int(last - mem.snapshot().meta.index + 6);
        term += int(2);
        const snap: Snapshot = {meta: {index: i, term, conf: conf('n1', `n${int(9)}`)}, data: new Uint8Array([int(256)])};
        op = (s) => s.applySnapshot(snap);
        what = `applySnapshot ${i}@${term}`;
      } else {
        file.close();
        file = track(FileStorage.open(dir, opts), dir);
        log.push('reopen');
        expect(dump(file)).toEqual(dump(mem));
        continue;
      }
      log.push(what);
      const a = outcome(() => op(mem));
      const b = outcome(() => op(file));
      expect({step, what, outcome: b}).toEqual({step, what, outcome: a});
      expect(dump(file)).toEqual(dump(mem));
    }
    file.close();
    file = track(FileStorage.open(dir, opts), dir);
    expect(dump(file)).toEqual(dump(mem));
    // Sanity: the run did exercise snapshots and replacements.
    expect(log.some((l) => l.startsWith('createSnapshot'))).toBe(true);
  });

  test('one fsync of the WAL per mutator call (an append batch included)', () => {
    const dir = tempDir();
    const s = track(FileStorage.bootstrap(dir, ['a']), dir);
    const syncs = (): number => s.stats().walSyncs;
    const before = syncs();
    s.append(range(1, 50).map((i) => ent(i, 1)));
    expect(syncs()).toBe(before + 1);
    s.setHardState({term: 1, vote: 'a', commit: 3});
    expect(syncs()).toBe(before + 2);
    s.append([]); // nothing to persist, nothing synced
    expect(syncs()).toBe(before + 2);
  });

  test('save(): a Ready\'s entries and hard state in one fsync; a commit-only change is written without one, and both survive a reopen', () => {
    const dir = tempDir();
    let s = track(FileStorage.bootstrap(dir, ['a']), dir);
    const syncs = (): number => s.stats().walSyncs;
    const before = syncs();
    s.save({term: 2, vote: 'a', commit: 0}, range(1, 10).map((i) => ent(i, 2)));
    expect(syncs()).toBe(before + 1);
    s.save({term: 2, vote: 'a', commit: 7}, []);
    expect(syncs()).toBe(before + 1);
    s.save({term: 3, vote: '', commit: 7}, []); // a new term must be durable before a vote leaves
    expect(syncs()).toBe(before + 2);
    s.close();
    s = track(FileStorage.open(dir), dir);
    expect(s.initialState().hardState).toEqual({term: 3, vote: '', commit: 7});
    expect(s.lastIndex()).toBe(9); // range(1, 10) is 1..9
    expect(s.term(9)).toBe(2);
  });
});
