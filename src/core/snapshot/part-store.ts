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

export class PartStore {
  /** Hashes of parts being received, updated chunk by chunk (no second read of the file). */
  private readonly inflight = new Map<string, crypto.Hash>();

  constructor(private readonly root: string) {}

  private file(snap: string, index: number, tmp = false): string {
    if (!ID_RE.test(snap) || !Number.isSafeInteger(index) || index < 0 || index > 100_000) throw new UsageError('bad snapshot part reference');
    return path.join(this.root, snap, `${index}.part${tmp ? '.tmp' : ''}`);
  }

  /** Appends one chunk; the last one (offset + data = size) checks the hash and publishes the part. */
  put(snap: string, index: number, offset: number, data: Buffer, size: number, sha256: string): {complete: boolean} {
    const tmp = this.file(snap, index, true);
    const key = `${snap}/${index}`;
    if (offset === 0) {
      fs.mkdirSync(path.dirname(tmp), {recursive: true, mode: 0o700});
      fs.writeFileSync(tmp, Buffer.alloc(0), {mode: 0o600});
      this.inflight.set(key, crypto.createHash('sha256'));
    }
    const hash = this.inflight.get(key);
    let have = -1;
    try {
      have = fs.statSync(tmp).size;
    } catch {
      // no temp file: the start was never seen
    }
    if (!hash || have < 0) throw new ConflictError(`part ${key}: chunk at ${offset} without a start; resend from 0`);
    if (have !== offset) throw new ConflictError(`part ${key}: expected offset ${have}, got ${offset}`);
    if (offset + data.length > size) throw new UsageError(`part ${snap}/${index}: more bytes than announced`);
    const fd = fs.openSync(tmp, 'r+');
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, offset + off);
      hash.update(data);
      if (offset + data.length < size) return {complete: false};
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.inflight.delete(key);
    const got = hash.digest('hex');
    if (got !== sha256) {
      fs.rmSync(tmp, {force: true});
      throw new ConflictError(`part ${snap}/${index} arrived corrupt (sha256 ${got.slice(0, 12)}, expected ${sha256.slice(0, 12)})`);
    }
    fs.renameSync(tmp, this.file(snap, index));
    fsyncDir(path.dirname(tmp));
    return {complete: true};
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
    fs.rmSync(this.file(snap, index), {force: true});
    fs.rmSync(this.file(snap, index, true), {force: true});
  }

  removeSnapshot(snap: string): void {
    if (!ID_RE.test(snap)) throw new UsageError('bad snapshot id');
    fs.rmSync(path.join(this.root, snap), {recursive: true, force: true});
  }
}
