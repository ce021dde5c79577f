import {cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {MemoryStorage} from '../../../src/core/consensus/raft/memory-storage.js';
import type {Entry, Snapshot, WritableRaftStorage} from '../../../src/core/consensus/raft/types.js';
import {crc32, crc32Table} from '../../../src/core/consensus/raft/wal/crc32.js';
import {FileStorage, SimulatedCrashError, WalCorruptError, WalExistsError} from '../../../src/core/consensus/raft/wal/index.js';
import type {CrashPoint} from '../../../src/core/consensus/raft/wal/index.js';
import {conf, dump, range} from './storage-helpers.js';

// ---- helpers -----------------------------------------------------------------------------

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'raft-wal-'));
  dirs.push(d);
  return d;
}
const opened: FileStorage[] = [];
function track(s: FileStorage): FileStorage {
  opened.push(s);
  return s;
}
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true});
});

const ent = (index: number, term: number, len = 3): Entry => ({index, term, type: 'normal', data: new Uint8Array(len).fill(index)});


const list = (dir: string, re: RegExp): string[] => readdirSync(dir).filter((n) => re.test(n)).sort();
const segments = (dir: string): string[] => list(dir, /^wal-[0-9a-f]{16}\.log$/);
const snapshots = (dir: string): string[] => list(dir, /^snap-.*\.snap$/);

function copyDir(src: string): string {
  const dst = tempDir();
  cpSync(src, dst, {recursive: true});
  return dst;
}
function flipByte(path: string, offset: number): void {
  const buf = readFileSync(path);
  buf[offset] = buf[offset]! ^ 0x5a;
  writeFileSync(path, buf);
}
function expectCorrupt(fn: () => unknown): WalCorruptError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WalCorruptError);
    return e as WalCorruptError;
  }
  throw new Error('expected WalCorruptError');
}

/**
 * A WAL of one segment holding six single-record mutations; `ends[k]` is the file size after k of
 * them (ends[0]: just the segment header), `states[k]` the reference state after k of them.
 */
function buildLog(): {dir: string; seg: string; ends: number[]; states: unknown[]} {
  const dir = tempDir();
  const file = FileStorage.bootstrap(dir, ['a', 'b']);
  const mem = MemoryStorage.bootstrap(['a', 'b']);
  const ops: ((s: WritableRaftStorage) => void)[] = [
    (s) => s.append([ent(1, 1)]),
    (s) => s.append([ent(2, 1)]),
    (s) => s.setHardState({term: 1, vote: 'a', commit: 1}),
    (s) => s.append([ent(3, 2, 40)]),
    (s) => s.append([ent(2, 2)]), // a conflict: replaces 2..3
    (s) => s.append([ent(3, 2, 20)]),
  ];
  const ends = [file.stats().segmentBytes];
  const states = [dump(mem)];
  for (const op of ops) {
    op(file);
    op(mem);
    ends.push(file.stats().segmentBytes);
    states.push(dump(mem));
  }
  const seg = file.stats().segment;
  file.close();
  expect(statSync(seg).size).toBe(ends[ends.length - 1]);
  return {dir, seg, ends, states};
}

// ---- torn tails --------------------------------------------------------------------------

describe('torn last record', () => {
  test('cut at every byte offset inside the last record: dropped, earlier records intact', () => {
    const {dir, ends, states} = buildLog();
    const [start, end] = [ends[5]!, ends[6]!];
    for (let cut = start; cut < end; cut++) {
      const d = copyDir(dir);
      const seg = join(d, segments(d)[0]!);
      truncateSync(seg, cut);
      const s = track(FileStorage.open(d));
      expect({cut, state: dump(s)}).toEqual({cut, state: states[5]});
      expect(statSync(seg).size).toBe(start); // truncated back to the last good record
      // The log continues normally from there.
      s.append([ent(3, 3)]);
      s.close();
      const r = track(FileStorage.open(d));
      expect(r.lastIndex()).toBe(3);
      expect(r.term(3)).toBe(3);
    }
  });

  test('flipped byte anywhere in the last record: dropped', () => {
    const {dir, ends, states} = buildLog();
    for (let off = ends[5]!; off < ends[6]!; off++) {
      const d = copyDir(dir);
      flipByte(join(d, segments(d)[0]!), off);
      expect({off, state: dump(track(FileStorage.open(d)))}).toEqual({off, state: states[5]});
    }
  });

  test('a torn multi-entry append keeps a prefix of it', () => {
    const dir = tempDir();
    const s = FileStorage.bootstrap(dir, ['a']);
    s.append([ent(1, 1)]);
    const start = s.stats().segmentBytes;
    const batch = range(2, 6).map((i) => ent(i, 1, 10));
    s.append(batch);
    const end = s.stats().segmentBytes;
    s.close();
    for (let cut = start; cut < end; cut++) {
      const d = copyDir(dir);
      truncateSync(join(d, segments(d)[0]!), cut);
      const r = track(FileStorage.open(d));
      const kept = r.lastIndex() - 1;
      expect(kept).toBeGreaterThanOrEqual(0);
      expect(kept).toBeLessThan(batch.length);
      expect(r.entries(1, r.lastIndex() + 1, Infinity)).toEqual([ent(1, 1), ...batch.slice(0, kept)]);
    }
  });

  test('zeros after the last record (a file extended but never written) are cut off', () => {
    const {dir, seg, ends, states} = buildLog();
    writeFileSync(seg, Buffer.concat([readFileSync(seg), Buffer.alloc(4096)]));
    expect(dump(track(FileStorage.open(dir)))).toEqual(states[6]);
    expect(statSync(seg).size).toBe(ends[6]);
  });
});

// ---- corruption that a crash cannot explain ----------------------------------------------

describe('corruption', () => {
  test.each([
    ['an entry record', 1],
    ['the hard state record', 2],
    ['the segment header record', -1],
  ])('flipped byte in a middle record (%s): WalCorruptError naming file and offset', (_what, k) => {
    const {dir, ends} = buildLog();
    const [start, end] = k < 0 ? [0, ends[0]!] : [ends[k]!, ends[k + 1]!];
    for (let off = start; off < end; off++) {
      const d = copyDir(dir);
      const seg = join(d, segments(d)[0]!);
      flipByte(seg, off);
      const err = expectCorrupt(() => FileStorage.open(d));
      expect({off, file: err.file, offset: err.offset}).toEqual({off, file: seg, offset: start});
      expect(err.message).toContain(seg);
      expect(err.message).toContain(`byte offset ${start}`);
      expect(err.message).toMatch(/restored from its peers or a snapshot/);
      expect(err.code).toBe('wal_corrupt');
      // Nothing was "repaired": the file is untouched.
      expect(statSync(seg).size).toBe(ends[6]);
    }
  });

  test('missing snapshot file the WAL refers to', () => {
    const dir = tempDir();
    const s = FileStorage.bootstrap(dir, ['a']);
    s.append(range(1, 11).map((i) => ent(i, 1)));
    s.createSnapshot(6, conf('a'), new Uint8Array([1]));
    s.close();
    const name = snapshots(dir).find((n) => n.endsWith(`${(6).toString(16).padStart(16, '0')}.snap`))!;
    unlinkSync(join(dir, name));
    const err = expectCorrupt(() => FileStorage.open(dir));
    expect(err.file).toBe(join(dir, name));
    expect(err.message).toMatch(/missing/);
  });

  test('missing bootstrap snapshot (index 0) is detected too', () => {
    const dir = tempDir();
    FileStorage.bootstrap(dir, ['a']).close();
    for (const n of snapshots(dir)) unlinkSync(join(dir, n));
    expectCorrupt(() => FileStorage.open(dir));
  });

  test('corrupt newest snapshot whose gap the WAL no longer covers', () => {
    const dir = tempDir();
    const s = FileStorage.bootstrap(dir, ['a']);
    s.append(range(1, 11).map((i) => ent(i, 1)));
    s.createSnapshot(3, conf('a'), new Uint8Array([3]));
    s.createSnapshot(6, conf('a'), new Uint8Array([6]));
    s.close();
    const names = snapshots(dir);
    expect(names).toHaveLength(2); // the newest two are kept
    const newest = join(dir, names[names.length - 1]!);
    flipByte(newest, statSync(newest).size - 6);
    const err = expectCorrupt(() => FileStorage.open(dir));
    expect(err.file).toBe(newest);
    expect(err.message).toMatch(/does not cover the gap/);
  });

  test('WAL segments gone but snapshots present', () => {
    const dir = tempDir();
    const s = FileStorage.bootstrap(dir, ['a']);
    s.append(range(1, 5).map((i) => ent(i, 1)));
    s.createSnapshot(3, conf('a'), new Uint8Array());
    s.close();
    for (const n of segments(dir)) unlinkSync(join(dir, n));
    expectCorrupt(() => FileStorage.open(dir));
  });
});

// ---- crashes during snapshot + rotation ----------------------------------------------------

describe('crash between snapshot write and WAL rotation', () => {
  /** Bootstrap, 12 entries, a hard state, an older snapshot at 4; the same on a MemoryStorage. */
  function setup(): {dir: string; mem: MemoryStorage} {
    const dir = tempDir();
    const mem = MemoryStorage.bootstrap(['a', 'b']);
    const file = FileStorage.bootstrap(dir, ['a', 'b']);
    for (const s of [mem, file] as WritableRaftStorage[]) {
      s.append(range(1, 13).map((i) => ent(i, i < 7 ? 1 : 2)));
      s.setHardState({term: 2, vote: 'b', commit: 10});
      s.createSnapshot(4, conf('a', 'b'), new Uint8Array([4]));
    }
    file.close();
    return {dir, mem};
  }

  const createOp = (s: WritableRaftStorage): unknown => s.createSnapshot(9, conf('a', 'b', 'c'), new Uint8Array([9, 9]));
  const snap20: Snapshot = {meta: {index: 20, term: 5, conf: conf('a', 'c')}, data: new Uint8Array([20])};
  const applyOp = (s: WritableRaftStorage): unknown => s.applySnapshot(snap20);

  const cases: {name: string; op: (s: WritableRaftStorage) => unknown; crashAt: CrashPoint; expected: 'before' | 'after'}[] = [];
  for (const [name, op] of [
    ['createSnapshot', createOp],
    ['applySnapshot', applyOp],
  ] as const) {
    cases.push({name, op, crashAt: 'after-snapshot-file', expected: 'before'});
    cases.push({name, op, crashAt: 'after-marker', expected: 'after'});
    cases.push({name, op, crashAt: 'after-segment-tmp', expected: 'after'});
    cases.push({name, op, crashAt: 'after-segment-rename', expected: 'after'});
  }

  test.each(cases)('$name, crash $crashAt: recovers to the state $expected it', ({op, crashAt, expected}) => {
    const {dir, mem} = setup();
    const before = dump(mem);
    op(mem);
    const after = dump(mem);

    const crashing = FileStorage.open(dir, {crashAt});
    expect(() => op(crashing)).toThrow(SimulatedCrashError);
    expect(() => crashing.setHardState({term: 9, vote: '', commit: 0})).toThrow(/failed earlier/); // no writes after a failure
    crashing.close();

    let s = track(FileStorage.open(dir));
    expect(dump(s)).toEqual(expected === 'before' ? before : after);
    if (expected === 'before') op(s); // the driver retries the interrupted step
    expect(dump(s)).toEqual(after);
    // Recovery tidied up: one segment, the newest two snapshots, no temp files.
    expect(segments(dir)).toHaveLength(1);
    expect(snapshots(dir).length).toBeLessThanOrEqual(2);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    // And it keeps working, across another restart.
    const next = mem.lastIndex() + 1;
    for (const x of [mem, s] as WritableRaftStorage[]) {
      x.append([ent(next, 6), ent(next + 1, 6)]);
      x.setHardState({term: 6, vote: '', commit: next});
    }
    s.close();
    s = track(FileStorage.open(dir));
    expect(dump(s)).toEqual(dump(mem));
  });

  test('corrupt newest snapshot falls back to the older one while the WAL still covers the gap', () => {
    const {dir, mem} = setup();
    const crashing = FileStorage.open(dir, {crashAt: 'after-marker'});
    expect(() => createOp(crashing)).toThrow(SimulatedCrashError);
    crashing.close();
    const newest = join(dir, snapshots(dir)[snapshots(dir).length - 1]!);
    expect(newest).toMatch(/0{15}9\.snap$/);
    flipByte(newest, 12);

    // The reference: the state before the interrupted createSnapshot (snapshot 4, entries 5..12).
    const expected = dump(mem);
    let s = track(FileStorage.open(dir));
    expect(dump(s)).toEqual(expected);
    expect(existsSync(`${newest}.corrupt`)).toBe(true);
    expect(existsSync(newest)).toBe(false);
    // The WAL was rewritten to refer to snapshot 4; a second restart sees the same state.
    s.close();
    s = track(FileStorage.open(dir));
    expect(dump(s)).toEqual(expected);
    expect(segments(dir)).toHaveLength(1);
    // Snapshotting again works.
    createOp(s);
    createOp(mem);
    expect(dump(s)).toEqual(dump(mem));
  });

  test('a damaged record in a closed (older) segment is corruption, not a torn tail', () => {
    const {dir} = setup();
    const crashing = FileStorage.open(dir, {crashAt: 'after-segment-rename'});
    expect(() => createOp(crashing)).toThrow(SimulatedCrashError);
    crashing.close();
    const segs = segments(dir);
    expect(segs).toHaveLength(2);
    const older = join(dir, segs[0]!);
    flipByte(older, statSync(older).size - 2); // inside its last record
    const err = expectCorrupt(() => FileStorage.open(dir));
    expect(err.file).toBe(older);
    expect(err.message).toMatch(/closed segment/);
  });
});

// ---- housekeeping --------------------------------------------------------------------------

describe('open and bootstrap', () => {
  test('creates the directory 0700 and removes stray temp files', () => {
    const dir = join(tempDir(), 'nested', 'raft');
    track(FileStorage.bootstrap(dir, ['a'])).close();
    if (process.platform !== 'win32') expect(statSync(dir).mode & 0o777).toBe(0o700);
    writeFileSync(join(dir, 'wal-0000000000000009.log.tmp'), 'junk');
    writeFileSync(join(dir, `${snapshots(dir)[0]!}.tmp`), 'junk');
    writeFileSync(join(dir, 'unrelated.tmp'), 'kept');
    const s = track(FileStorage.open(dir));
    expect(s.initialState().confState).toEqual(conf('a'));
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual(['unrelated.tmp']);
  });

  test('bootstrap refuses a directory that already holds a log', () => {
    const dir = tempDir();
    track(FileStorage.bootstrap(dir, ['a'])).close();
    expect(() => FileStorage.bootstrap(dir, ['b'])).toThrow(WalExistsError);
    expect(track(FileStorage.open(dir)).initialState().confState).toEqual(conf('a'));
  });

  test('mutators refuse after close', () => {
    const dir = tempDir();
    const s = FileStorage.bootstrap(dir, ['a']);
    s.close();
    expect(() => s.append([ent(1, 1)])).toThrow(/closed/);
    expect(s.lastIndex()).toBe(0);
  });

  test('native and table CRC-32 agree', () => {
    const data = new Uint8Array(range(0, 1000).map((i) => (i * 31) & 0xff));
    expect(crc32(data)).toBe(crc32Table(data));
    expect(crc32(data.subarray(500), crc32(data.subarray(0, 500)))).toBe(crc32Table(data));
    expect(crc32Table(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
