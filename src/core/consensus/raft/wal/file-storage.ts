import {closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {assert} from '../../../errors.js';
import {cloneConf, LogStorage} from '../log-storage.js';
import {dummyEntry} from '../entry-log.js';
import type {ConfState, Entry, HardState, Snapshot, WritableRaftStorage} from '../types.js';
import {SimulatedCrashError, WalCorruptError, WalExistsError} from './errors.js';
import {errCode, fsyncDir, writeAll, writeFileAtomic} from './fs-util.js';
import {parseSnapFileName, readSnapshotFile, snapFileName, writeSnapshotFile} from './snapshot-file.js';
import {
  RecordType,
  decodeEntry,
  decodeHardState,
  decodeMeta,
  decodeRef,
  encodeEntry,
  encodeHardState,
  encodeMeta,
  encodeRecord,
  encodeRef,
  scanRecords,
} from './wal-record.js';
import type {LogRef, RecordTypeCode} from './wal-record.js';

/** Where the test-only crash hook stops a snapshot/rotation (see FileStorageOptions.crashAt). */
export type CrashPoint = 'after-snapshot-file' | 'after-marker' | 'after-segment-tmp' | 'after-segment-rename';

export interface FileStorageOptions {
  /** compact() starts a new segment once the active one exceeds this and is mostly dead entries. Default 64 MiB. */
  segmentBytes?: number;
  /** TEST ONLY: throw SimulatedCrashError at this point, leaving the files exactly as a crash there would. */
  crashAt?: CrashPoint;
}

export interface FileStorageStats {
  /** The active WAL segment file. */
  segment: string;
  segmentBytes: number;
  /** fsyncs of the WAL file by mutators (one per durable mutator call). */
  walSyncs: number;
}

const DEFAULT_SEGMENT_BYTES = 64 << 20;
const SEG_RE = /^wal-([0-9a-f]{16})\.log$/;
const segName = (seq: number): string => `wal-${seq.toString(16).padStart(16, '0')}.log`;

/**
 * WritableRaftStorage on disk, behaving exactly like MemoryStorage (the shared compliance suite
 * checks it). The log lives in memory too (reads never touch disk); the files are for durability:
 *
 *  - `wal-<seq>.log`: append-only segments of checksummed records (wal-record.ts). Each segment
 *    starts with a Meta record (snapshot it builds on, compaction point, hard state) followed by
 *    every live entry, so the newest segment alone describes the whole state. Mutators append a
 *    record and fsync before returning: the driver may send messages right after.
 *  - `snap-<term>-<index>.snap`: snapshots, written atomically before the WAL refers to them.
 *    The newest two are kept (the older one is the fall-back if the newest is damaged).
 *
 * A new segment is written (tmp + fsync + rename + dir fsync) after each snapshot, and older
 * segments are deleted only once it is durable. Recovery replays all segments in order, cuts a torn
 * tail off the last one, and refuses (WalCorruptError) anything a crash cannot explain.
 */
export class FileStorage extends LogStorage implements WritableRaftStorage {
  private fd: number | undefined;
  private failed: Error | undefined;
  private walSyncs = 0;

  private constructor(
    private readonly dir: string,
    private seq: number,
    private size: number,
    state: {hardState: HardState; snap: Snapshot; ents: Entry[]},
    private readonly opts: FileStorageOptions,
  ) {
    // The in-memory state, as in MemoryStorage; the WAL only makes it durable.
    super(state);
    this.fd = openSync(join(dir, segName(seq)), 'r+');
  }

  /** Opens (recovering) the storage in `dir`, creating an empty one if the directory holds none. */
  static open(dir: string, opts: FileStorageOptions = {}): FileStorage {
    prepareDir(dir);
    const segs = listSegments(dir);
    if (segs.length === 0) {
      // Only an index-0 snapshot can exist without a WAL (a crash while initialising).
      const stray = listSnapshots(dir).find((s) => s.index > 0);
      if (stray) throw new WalCorruptError(join(dir, stray.name), undefined, 'snapshot files exist but there is no WAL segment');
      return FileStorage.init(dir, {voters: [], learners: []}, opts);
    }
    return FileStorage.recover(dir, segs, opts);
  }

  /** A new storage in `dir` whose initial membership is `voters` (like MemoryStorage.bootstrap), persisted. */
  static bootstrap(dir: string, voters: string[], opts: FileStorageOptions = {}): FileStorage {
    prepareDir(dir);
    if (listSegments(dir).length > 0 || listSnapshots(dir).some((s) => s.index > 0)) {
      throw new WalExistsError(`${dir} already holds raft state; refusing to bootstrap over it (open it instead)`);
    }
    return FileStorage.init(dir, {voters: [...voters], learners: []}, opts);
  }

  /** Closes the WAL file. Reads keep working on the in-memory copy; mutators throw. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  stats(): FileStorageStats {
    return {segment: join(this.dir, segName(this.seq)), segmentBytes: this.size, walSyncs: this.walSyncs};
  }

  // ---- mutators: validate like MemoryStorage, write + fsync, then change memory ---------------

  setHardState(hs: HardState): void {
    this.writable();
    this.writeRecords([encodeRecord(RecordType.HardState, encodeHardState(hs))]);
    this.hardState = {...hs};
  }

  save(hs: HardState | undefined, entries: Entry[]): void {
    const fresh = this.log.fresh(entries);
    const records = fresh.map((e) => encodeRecord(RecordType.Entry, encodeEntry(e)));
    if (hs) records.push(encodeRecord(RecordType.HardState, encodeHardState(hs)));
    if (records.length === 0) return;
    this.writable();
    // Only new entries or a new term/vote must be on disk before messages leave; a commit-only
    // change rides along with the next fsync (a lost commit index is learned again from the leader).
    const mustSync = fresh.length > 0 || (hs !== undefined && (hs.term !== this.hardState.term || hs.vote !== this.hardState.vote));
    this.writeRecords(records, mustSync);
    this.log.append(fresh);
    if (hs) this.hardState = {...hs};
  }

  append(entries: Entry[]): void {
    const fresh = this.log.fresh(entries);
    if (fresh.length === 0) return;
    this.writable();
    // One write and one fsync for the whole batch; replay truncates at each entry's index.
    this.writeRecords(fresh.map((e) => encodeRecord(RecordType.Entry, encodeEntry(e))));
    this.log.append(fresh);
  }

  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) return;
    this.writable();
    // The file first: the WAL must never refer to a snapshot that is not durable.
    this.io(() => writeSnapshotFile(this.dir, snap));
    this.crashPoint('after-snapshot-file');
    this.writeRecords([encodeRecord(RecordType.SnapApply, encodeRef(snap.meta))]);
    this.snap = snap;
    this.log.reset(snap.meta);
    this.crashPoint('after-marker');
    this.rotate();
  }

  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    assert(index <= this.lastIndex(), `snapshot ${index} beyond last ${this.lastIndex()}`);
    const snap: Snapshot = {meta: {index, term: this.term(index), conf: cloneConf(conf)}, data};
    this.writable();
    this.io(() => writeSnapshotFile(this.dir, snap));
    this.crashPoint('after-snapshot-file');
    this.writeRecords([encodeRecord(RecordType.SnapCreate, encodeRef(snap.meta))]);
    this.snap = snap;
    this.compactMemory(index);
    this.crashPoint('after-marker');
    // Entries up to the snapshot are no longer needed: a fresh segment drops them from disk.
    this.rotate();
    return this.snap;
  }

  compact(index: number): void {
    if (index < this.log.firstIndex()) return;
    assert(index <= this.lastIndex(), `compact ${index} beyond last ${this.lastIndex()}`);
    this.writable();
    this.writeRecords([encodeRecord(RecordType.Compact, encodeRef({index, term: this.log.term(index)}))]);
    this.compactMemory(index);
    // Rewriting the live log is only worth it once the segment is big and mostly dead.
    const limit = this.opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (this.size > limit && this.size > 2 * this.liveBytes()) this.rotate();
  }

  // ---- internals --------------------------------------------------------------------------------

  private compactMemory(index: number): void {
    this.log.compact(index);
  }

  private liveBytes(): number {
    const ents = this.log.all();
    let n = 64;
    for (let i = 1; i < ents.length; i++) n += ents[i]!.data.length + 32;
    return n;
  }

  private writable(): void {
    if (this.fd === undefined) throw new Error('raft FileStorage is closed');
    if (this.failed) throw new Error(`raft FileStorage failed earlier (${this.failed.message}); reopen it to recover from disk`);
  }

  /**
   * After a failed write or fsync the file's state is unknown (and a retried fsync may report
   * success for data that was dropped), so the storage refuses further writes until reopened.
   */
  private io<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.failed ??= e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }

  private crashPoint(p: CrashPoint): void {
    if (this.opts.crashAt !== p) return;
    const e = new SimulatedCrashError(`simulated crash ${p}`);
    this.failed = e;
    throw e;
  }

  private writeRecords(records: Buffer[], sync = true): void {
    const fd = this.fd!;
    const buf = records.length === 1 ? records[0]! : Buffer.concat(records);
    this.io(() => {
      writeAll(fd, buf, this.size);
      if (sync) fsyncSync(fd);
    });
    if (sync) this.walSyncs++;
    this.size += buf.length;
  }

  /**
   * Starts segment seq+1 holding the current state; deletes older segments once it is durable.
   * `whenDurable` runs after the switch and before any clean-up.
   */
  private rotate(whenDurable?: () => void): void {
    const seq = this.seq + 1;
    const path = join(this.dir, segName(seq));
    const ents = this.log.all();
    const meta = {snap: refOf(this.snap), dummy: refOf(ents[0]!), hardState: this.hardState};
    const size = this.io(() => writeSegment(path, meta, ents, () => this.crashPoint('after-segment-tmp')));
    this.crashPoint('after-segment-rename');
    this.io(() => {
      const fd = openSync(path, 'r+');
      closeSync(this.fd!);
      this.fd = fd;
      this.seq = seq;
      this.size = size;
      whenDurable?.();
      removeOldSegments(this.dir, seq);
      pruneSnapshots(this.dir, this.snap.meta);
    });
  }

  private static init(dir: string, conf: ConfState, opts: FileStorageOptions): FileStorage {
    const snap: Snapshot = {meta: {index: 0, term: 0, conf}, data: new Uint8Array()};
    const hardState: HardState = {term: 0, vote: '', commit: 0};
    const ents = [dummyEntry({index: 0, term: 0})];
    writeSnapshotFile(dir, snap);
    const size = writeSegment(join(dir, segName(1)), {snap: refOf(snap), dummy: {index: 0, term: 0}, hardState}, ents);
    return new FileStorage(dir, 1, size, {hardState, snap, ents}, opts);
  }

  private static recover(dir: string, segs: {seq: number; name: string}[], opts: FileStorageOptions): FileStorage {
    const r = new Replay();
    let size = 0;
    segs.forEach((seg, k) => {
      const path = join(dir, seg.name);
      const buf = readFileSync(path);
      const scan = scanRecords(buf);
      const f = scan.failure;
      if (f) {
        // Only the newest segment is ever appended to, so only it can have a torn tail; its first
        // record arrived by rename and cannot be torn.
        const last = k === segs.length - 1;
        if (!last || f.more || f.offset === 0) {
          const why = f.more ? `${f.reason}, and valid records follow it` : !last ? `${f.reason} in a closed segment` : `${f.reason} in the segment header`;
          throw new WalCorruptError(path, f.offset, why);
        }
        truncateDurably(path, scan.goodEnd);
      }
      scan.records.forEach((rec, i) => {
        if ((i === 0) !== (rec.type === RecordType.Meta)) {
          throw new WalCorruptError(path, rec.offset, i === 0 ? 'segment does not start with a header record' : 'unexpected header record inside a segment');
        }
        r.apply(rec.type, rec.payload, path, rec.offset);
      });
      size = scan.goodEnd;
    });

    // Resolve the snapshot the WAL ends on; fall back to an older one only if the log still holds
    // every entry after it (otherwise state between the two would be lost).
    const refPath = join(dir, snapFileName(r.snap.term, r.snap.index));
    const read = readSnapshotFile(refPath, r.snap);
    let snap: Snapshot;
    let dummy: LogRef = r.dummy;
    let fellBack = false;
    if (read.ok) {
      snap = read.snap;
    } else if (read.missing) {
      throw new WalCorruptError(refPath, undefined, `the WAL (${r.snapOrigin}) refers to this snapshot but the file is missing`);
    } else {
      const older = listSnapshots(dir)
        .filter((s) => s.index < r.snap.index && r.termAt(s.index) === s.term)
        .sort((a, b) => b.index - a.index || b.term - a.term);
      let found: Snapshot | undefined;
      for (const c of older) {
        const o = readSnapshotFile(join(dir, c.name), c);
        if (o.ok) {
          found = o.snap;
          break;
        }
      }
      if (!found) {
        throw new WalCorruptError(refPath, undefined, `${read.reason}, and the WAL does not cover the gap from an older valid snapshot`);
      }
      snap = found;
      dummy = {index: found.meta.index, term: found.meta.term};
      fellBack = true;
    }
    const ents = [dummyEntry(dummy), ...r.ents.slice(dummy.index - r.base.index)];
    const last = segs[segs.length - 1]!;
    const s = new FileStorage(dir, last.seq, size, {hardState: r.hs, snap, ents}, opts);
    if (fellBack) {
      // Rewrite the WAL so it refers to the snapshot actually in use; only then move the damaged
      // file aside (kept for inspection): until the new segment is durable the old WAL needs it.
      s.rotate(() => renameSync(refPath, `${refPath}.corrupt`));
    } else {
      // The newest segment is self-contained: left-overs of an interrupted rotation can go.
      removeOldSegments(dir, last.seq);
      pruneSnapshots(dir, snap.meta);
    }
    return s;
  }
}

/** The state replay builds. Entries below the compaction point are kept until the end, in case
 * the newest snapshot is damaged and an older one (plus these entries) must stand in for it. */
class Replay {
  base: LogRef = {index: 0, term: 0};
  /** Entries base.index+1 .. last, contiguous. */
  ents: Entry[] = [];
  dummy: LogRef = {index: 0, term: 0};
  snap: LogRef = {index: 0, term: 0};
  snapOrigin = '';
  hs: HardState = {term: 0, vote: '', commit: 0};

  last(): number {
    return this.base.index + this.ents.length;
  }

  termAt(i: number): number | undefined {
    if (i === this.base.index) return this.base.term;
    if (i < this.base.index || i > this.last()) return undefined;
    return this.ents[i - this.base.index - 1]!.term;
  }

  apply(type: RecordTypeCode, payload: Buffer, file: string, offset: number): void {
    const bad = (what: string): WalCorruptError => new WalCorruptError(file, offset, what);
    const origin = `${file} at byte offset ${offset}`;
    switch (type) {
      case RecordType.Meta: {
        const m = decodeMeta(payload);
        if (!m || m.dummy.index < m.snap.index) throw bad('malformed segment header record');
        // Same position and term as what earlier segments built: keep that prefix (same entries, by
        // the log matching property); otherwise the segment starts afresh.
        if (this.termAt(m.dummy.index) === m.dummy.term) this.ents.length = m.dummy.index - this.base.index;
        else [this.base, this.ents] = [m.dummy, []];
        this.dummy = m.dummy;
        this.snap = m.snap;
        this.snapOrigin = origin;
        this.hs = m.hardState;
        return;
      }
      case RecordType.HardState: {
        const hs = decodeHardState(payload);
        if (!hs) throw bad('malformed hard state record');
        this.hs = hs;
        return;
      }
      case RecordType.Entry: {
        const e = decodeEntry(payload);
        if (!e) throw bad('malformed entry record');
        if (e.index <= this.dummy.index || e.index > this.last() + 1) {
          throw bad(`entry ${e.index} does not fit the log (first ${this.dummy.index + 1}, last ${this.last()})`);
        }
        this.ents.length = e.index - this.base.index - 1;
        this.ents.push(e);
        return;
      }
      case RecordType.SnapApply: {
        const s = decodeRef(payload);
        if (!s || s.index <= this.snap.index) throw bad('malformed or stale snapshot record');
        this.snap = s;
        this.snapOrigin = origin;
        this.base = this.dummy = s;
        this.ents = [];
        return;
      }
      case RecordType.SnapCreate: {
        const s = decodeRef(payload);
        if (!s || s.index <= this.snap.index || s.index < this.dummy.index || this.termAt(s.index) !== s.term) {
          throw bad('snapshot record does not match the log');
        }
        this.snap = s;
        this.snapOrigin = origin;
        this.dummy = s;
        return;
      }
      case RecordType.Compact: {
        const c = decodeRef(payload);
        if (!c || c.index <= this.dummy.index || this.termAt(c.index) !== c.term) throw bad('compaction record does not match the log');
        this.dummy = c;
        return;
      }
    }
  }
}

function refOf(x: {index: number; term: number} | Snapshot): LogRef {
  return 'meta' in x ? {index: x.meta.index, term: x.meta.term} : {index: x.index, term: x.term};
}

/** Writes a whole segment atomically; returns its size. Records go out in ~1 MiB batches. */
function writeSegment(path: string, meta: {snap: LogRef; dummy: LogRef; hardState: HardState}, ents: readonly Entry[], beforeRename?: () => void): number {
  let size = 0;
  function* chunks(): Generator<Buffer> {
    let batch: Buffer[] = [encodeRecord(RecordType.Meta, encodeMeta(meta))];
    let bytes = batch[0]!.length;
    for (let i = 1; i < ents.length; i++) {
      const rec = encodeRecord(RecordType.Entry, encodeEntry(ents[i]!));
      batch.push(rec);
      bytes += rec.length;
      if (bytes >= 1 << 20) {
        size += bytes;
        yield Buffer.concat(batch);
        [batch, bytes] = [[], 0];
      }
    }
    size += bytes;
    if (batch.length > 0) yield Buffer.concat(batch);
  }
  writeFileAtomic(path, chunks(), beforeRename);
  return size;
}

function truncateDurably(path: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates the directory (0700: it holds the cluster's state) and drops stray temp files. */
function prepareDir(dir: string): void {
  const created = mkdirSync(dir, {recursive: true, mode: 0o700});
  if (created !== undefined) fsyncDir(dirname(created));
  for (const name of readdirSync(dir)) {
    const base = name.endsWith('.tmp') ? name.slice(0, -4) : undefined;
    if (base !== undefined && (SEG_RE.test(base) || parseSnapFileName(base))) unlinkSync(join(dir, name));
  }
}

function listSegments(dir: string): {seq: number; name: string}[] {
  const out: {seq: number; name: string}[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEG_RE.exec(name);
    if (m) out.push({seq: parseInt(m[1]!, 16), name});
  }
  return out.sort((a, b) => a.seq - b.seq);
}

function listSnapshots(dir: string): {term: number; index: number; name: string}[] {
  const out: {term: number; index: number; name: string}[] = [];
  for (const name of readdirSync(dir)) {
    const p = parseSnapFileName(name);
    if (p) out.push({...p, name});
  }
  return out;
}

function removeOldSegments(dir: string, keepFrom: number): void {
  let removed = false;
  for (const s of listSegments(dir)) {
    if (s.seq >= keepFrom) continue;
    unlinkQuiet(join(dir, s.name));
    removed = true;
  }
  // Durable before any snapshot an old segment refers to is pruned.
  if (removed) fsyncDir(dir);
}

/** Keeps the current snapshot and the newest older one; drops the rest (and orphans newer than current). */
function pruneSnapshots(dir: string, current: {index: number; term: number}): void {
  const all = listSnapshots(dir);
  const curName = snapFileName(current.term, current.index);
  const older = all.filter((s) => s.index < current.index).sort((a, b) => b.index - a.index || b.term - a.term)[0];
  let removed = false;
  for (const s of all) {
    if (s.name === curName || s.name === older?.name) continue;
    unlinkQuiet(join(dir, s.name));
    removed = true;
  }
  if (removed) fsyncDir(dir);
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw e;
  }
}
