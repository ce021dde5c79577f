import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {ConflictError, NotFoundError, UsageError} from '../errors.js';
import {fsyncDir} from '../consensus/raft/wal/fs-util.js';

/**
 * The parts of other nodes' snapshots this node holds: `<root>/<snapshot>/<index>.part`. A part
 * arrives in chunks, in order, into a temp file; it becomes visible only when complete, fsynced and
 * matching the hash the sender announced, so a half-received part is never served.
 */
const ID_RE = /^[0-9a-f]{8,32}$/;
/** Highest part number a holder accepts (create cuts at most 1,024 parts). */
export const MAX_PART_INDEX = 100_000;

/** A part being received: its temp file held open, the hash so far, the next offset expected. */
interface Incoming {
  fd: number;
  hash: crypto.Hash;
  next: number;
  /** Bytes written since the last early flush was started. */
  unflushed: number;
  /** Early flushes in flight (the last chunk waits for them). */
  flushing: Promise<void>[];
  /** When the last chunk landed (the node's clock). */
  touchedMs: number;
}

/**
 * A part no chunk has reached for this long was abandoned (its sender died or gave up: senders time
 * out a chunk after 30 s): its file handle is closed and its temp file removed when another part starts.
 */
export const ABANDONED_AFTER_MS = 10 * 60_000;

/**
 * Start writing a part back to disk every this many bytes, on the thread pool, while later chunks
 * arrive: the final fsync then has little left to wait for, instead of every part's whole size at
 * once when a snapshot's parts all complete together.
 */
const FLUSH_EVERY = 4 * 1024 * 1024;

export class PartStore {
  /** Parts being received, hashed chunk by chunk (no second read of the file). */
  private readonly inflight = new Map<string, Incoming>();

  constructor(
    private readonly root: string,
    private readonly clock: () => number,
  ) {}

  /** Parts being received right now. */
  get receiving(): number {
    return this.inflight.size;
  }

  private file(snap: string, index: number, tmp = false): string {
    if (!ID_RE.test(snap) || !Number.isSafeInteger(index) || index < 0 || index > MAX_PART_INDEX) throw new UsageError('bad snapshot part reference');
    return path.join(this.root, snap, `${index}.part${tmp ? '.tmp' : ''}`);
  }

  /**
   * Appends one chunk. The last one (offset + data = size) publishes the part once it is fsynced and
   * returns the sha256 of what landed; when that chunk carries `sha256`, a mismatch refuses the part
   * instead. A chunk at offset 0 (re)starts the part. The last chunk's fsync runs on the thread pool,
   * so chunks of other parts keep landing meanwhile.
   */
  async put(snap: string, index: number, offset: number, data: Buffer, size: number, sha256?: string): Promise<{complete: boolean; sha256?: string}> {
    const tmp = this.file(snap, index, true);
    const key = `${snap}/${index}`;
    const now = this.clock();
    if (offset === 0) {
      this.drop(key);
      this.dropAbandoned(now);
      fs.mkdirSync(path.dirname(tmp), {recursive: true, mode: 0o700});
      this.inflight.set(key, {fd: fs.openSync(tmp, 'w', 0o600), hash: crypto.createHash('sha256'), next: 0, unflushed: 0, flushing: [], touchedMs: now});
    }
    const inc = this.inflight.get(key);
    if (!inc) throw new ConflictError(`part ${key}: chunk at ${offset} without a start; resend from 0`);
    if (inc.next !== offset) throw new ConflictError(`part ${key}: expected offset ${inc.next}, got ${offset}`);
    inc.touchedMs = now;
    if (offset + data.length > size) {
      this.drop(key);
      throw new UsageError(`part ${key}: more bytes than announced`);
    }
    let off = 0;
    while (off < data.length) off += fs.writeSync(inc.fd, data, off, data.length - off, offset + off);
    inc.hash.update(data);
    inc.next += data.length;
    inc.unflushed += data.length;
    if (inc.next < size) {
      if (inc.unflushed >= FLUSH_EVERY) {
        inc.unflushed = 0;
        inc.flushing.push(fdatasyncFd(inc.fd).catch(() => undefined)); // the final fsync reports errors
      }
      return {complete: false};
    }
    this.inflight.delete(key);
    try {
      await Promise.all(inc.flushing);
      await fsyncFd(inc.fd);
    } finally {
      fs.closeSync(inc.fd);
    }
    const got = inc.hash.digest('hex');
    if (sha256 !== undefined && got !== sha256) {
      fs.rmSync(tmp, {force: true});
      throw new ConflictError(`part ${key} arrived corrupt (sha256 ${got.slice(0, 12)}, expected ${String(sha256).slice(0, 12)})`);
    }
    fs.renameSync(tmp, this.file(snap, index));
    fsyncDir(path.dirname(tmp));
    return {complete: true, sha256: got};
  }

  /** Forgets a part being received (its temp file stays until removed or restarted). */
  private drop(key: string): void {
    const inc = this.inflight.get(key);
    if (!inc) return;
    this.inflight.delete(key);
    // Not under an early flush still running on the thread pool (the number could be reused).
    void Promise.all(inc.flushing).then(() => fs.close(inc.fd, () => undefined));
  }

  /** Closes and removes the parts whose sender stopped sending long ago. */
  private dropAbandoned(now: number): void {
    for (const [key, inc] of [...this.inflight]) {
      if (now - inc.touchedMs < ABANDONED_AFTER_MS) continue;
      this.drop(key);
      fs.rmSync(path.join(this.root, `${key}.part.tmp`), {force: true});
    }
  }

  has(snap: string, index: number): boolean {
    return fs.existsSync(this.file(snap, index));
  }

  hash(snap: string, index: number): {sha256: string; size: number} {
    const f = this.file(snap, index);
    if (!fs.existsSync(f)) throw new NotFoundError(`this node holds no part ${snap}/${index}`);
    return this.hashFile(f);
  }

  private hashFile(f: string): {sha256: string; size: number} {
    const h = crypto.createHash('sha256');
    const fd = fs.openSync(f, 'r');
    const buf = Buffer.alloc(1024 * 1024);
    let size = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, size);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        size += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return {sha256: h.digest('hex'), size};
  }

  read(snap: string, index: number, offset: number, length: number): Buffer {
    const f = this.file(snap, index);
    let fd: number;
    try {
      fd = fs.openSync(f, 'r');
    } catch {
      throw new NotFoundError(`this node holds no part ${snap}/${index}`);
    }
    try {
      // Only the bytes read are handed out, so the buffer need not be zeroed first.
      const b = Buffer.allocUnsafe(length);
      const n = fs.readSync(fd, b, 0, length, offset);
      return b.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The path of a held part (for a holder that forwards it in a repair). */
  pathOf(snap: string, index: number): string {
    const f = this.file(snap, index);
    if (!fs.existsSync(f)) throw new NotFoundError(`this node holds no part ${snap}/${index}`);
    return f;
  }

  removePart(snap: string, index: number): void {
    this.drop(`${snap}/${index}`);
    fs.rmSync(this.file(snap, index), {force: true});
    fs.rmSync(this.file(snap, index, true), {force: true});
  }

  removeSnapshot(snap: string): void {
    if (!ID_RE.test(snap)) throw new UsageError('bad snapshot id');
    for (const key of [...this.inflight.keys()]) if (key.startsWith(`${snap}/`)) this.drop(key);
    fs.rmSync(path.join(this.root, snap), {recursive: true, force: true});
  }
}

function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}
