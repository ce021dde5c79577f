import * as fs from 'node:fs';
import * as path from 'node:path';

import {UsageError} from '../errors.js';
import {FileSyncer} from '../storage/index.js';
import {MAX_HEADER, PAYLOAD_MAGIC} from './payload.js';
import type {PayloadEntry} from './payload.js';

export interface ExtractedFile {
  rel: string;
  /** Where its bytes were written (in the scratch dir). */
  tmp: string;
  mode: number;
}

type Want = 'magic' | 'len' | 'header' | 'data' | 'end';

/**
 * Parses a payload stream (see payload.ts) as it arrives, in chunks cut anywhere, and writes each
 * file into `dir` (named 0, 1, ... in order) with its mode. Nothing is buffered beyond one header, so
 * memory stays flat whatever the snapshot's size. A malformed stream (bad magic, oversized or bad
 * header, a path that leaves the target, bytes past the end, a missing end) is refused with UsageError.
 * Each finished file is handed to a FileSyncer: fsynced on the thread pool while later files are
 * written (`write` waits when too many are in flight; `finish` waits for them all).
 */
export class PayloadExtractor {
  readonly files: ExtractedFile[] = [];
  private want: Want = 'magic';
  private need = PAYLOAD_MAGIC.length;
  private readonly acc = Buffer.allocUnsafe(MAX_HEADER);
  private accFill = 0;
  private fd: number | undefined;
  private left = 0;
  private pos = 0;

  private readonly syncer = new FileSyncer();

  constructor(private readonly dir: string) {}

  /** push(), then waits while too many finished files are still being fsynced. */
  async write(chunk: Buffer): Promise<void> {
    this.push(chunk);
    await this.syncer.room();
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.want === 'end') throw new UsageError('snapshot payload has bytes after its end');
      if (this.want === 'data') {
        const n = Math.min(this.left, chunk.length - i);
        let off = 0;
        while (off < n) off += fs.writeSync(this.fd!, chunk, i + off, n - off, this.pos + off);
        this.pos += n;
        this.left -= n;
        i += n;
        if (this.left === 0) this.closeFile();
        continue;
      }
      const n = Math.min(this.need - this.accFill, chunk.length - i);
      chunk.copy(this.acc, this.accFill, i, i + n);
      this.accFill += n;
      i += n;
      if (this.accFill < this.need) break;
      this.accFill = 0;
      this.take(this.acc.subarray(0, this.need));
    }
  }

  /** The stream is complete: it must have ended exactly at its end marker. Resolves once every file is durable. */
  async finish(): Promise<ExtractedFile[]> {
    if (this.want !== 'end') throw new UsageError('snapshot payload is truncated');
    await this.syncer.drain();
    return this.files;
  }

  /** Gives up on a stream that failed part-way: the open file is closed, fsyncs in flight are waited out. */
  async abandon(): Promise<void> {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    await this.syncer.settle();
  }

  private take(got: Buffer): void {
    switch (this.want) {
      case 'magic':
        if (!got.equals(PAYLOAD_MAGIC)) throw new UsageError('not a snapshot payload');
        this.expect('len', 4);
        return;
      case 'len': {
        const len = got.readUInt32BE();
        if (len === 0) this.want = 'end';
        else if (len > MAX_HEADER) throw new UsageError('snapshot payload header too large');
        else this.expect('header', len);
        return;
      }
      case 'header':
        this.openFile(parseHeader(got));
        return;
      default:
        throw new UsageError('snapshot payload parser is confused');
    }
  }

  private expect(want: Want, need: number): void {
    this.want = want;
    this.need = need;
  }

  private openFile(entry: PayloadEntry): void {
    const tmp = path.join(this.dir, String(this.files.length));
    this.fd = fs.openSync(tmp, 'wx', 0o600);
    fs.fchmodSync(this.fd, entry.mode);
    this.files.push({rel: entry.rel, tmp, mode: entry.mode});
    this.pos = 0;
    this.left = entry.size;
    if (this.left === 0) this.closeFile();
    else this.want = 'data';
  }

  private closeFile(): void {
    this.syncer.add(this.fd!);
    this.fd = undefined;
    this.expect('len', 4);
  }
}

function parseHeader(raw: Buffer): PayloadEntry {
  let h: {p?: unknown; m?: unknown; s?: unknown};
  try {
    h = JSON.parse(raw.toString('utf8')) as typeof h;
  } catch {
    throw new UsageError('snapshot payload header is malformed');
  }
  if (h === null || typeof h !== 'object' || typeof h.p !== 'string' || !Number.isSafeInteger(h.m) || !Number.isSafeInteger(h.s) || (h.s as number) < 0) throw new UsageError('snapshot payload header is malformed');
  const rel = path.posix.normalize(h.p);
  if (rel !== h.p || rel.startsWith('/') || rel.startsWith('../') || rel === '..' || rel === '.') throw new UsageError(`snapshot payload path ${JSON.stringify(h.p.slice(0, 60))} leaves the target`);
  return {rel, mode: (h.m as number) & 0o777, size: h.s as number};
}
