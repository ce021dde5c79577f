import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

import {UsageError} from '../errors.js';

/**
 * A snapshot's contents as one byte stream: a magic line, then for each file a length-prefixed JSON
 * header (path, mode, size) and its bytes, then a zero length. The stream is never materialised:
 * sizes come from one stat per file up front, so any byte range of it can be read straight from the
 * sources (each part of a snapshot is read where it lies, in parallel), and a restore parses it as
 * it arrives (see payload-extract.ts).
 */
export const PAYLOAD_MAGIC = Buffer.from('SWSNAP1\n');
export const MAX_HEADER = 64 * 1024;

export type PayloadSource = {rel: string; abs: string} | {rel: string; data: Buffer; mode?: number};

export interface PayloadEntry {
  rel: string;
  mode: number;
  size: number;
}

/** One of the equal byte ranges a payload is cut into (the last ones may be short or empty). */
export interface PayloadRange {
  offset: number;
  size: number;
}

/** A run of payload bytes: held in memory (magic, headers, inline data) or a file's first `length` bytes. */
type Segment = {at: number; length: number} & ({bytes: Buffer} | {file: string});

export interface PayloadPlan {
  bytes: number;
  entries: PayloadEntry[];
  segments: readonly Segment[];
}

/** Lays the payload out: where every byte comes from. Files are stat'ed once here, never again. */
export function planPayload(sources: readonly PayloadSource[]): PayloadPlan {
  const segments: Segment[] = [];
  const entries: PayloadEntry[] = [];
  let at = 0;
  const push = (s: {bytes: Buffer} | {file: string; length: number}): void => {
    const length = 'bytes' in s ? s.bytes.length : s.length;
    if (length > 0) segments.push({at, length, ...s} as Segment);
    at += length;
  };
  push({bytes: PAYLOAD_MAGIC});
  for (const s of sources) {
    const st = 'abs' in s ? fs.statSync(s.abs) : undefined;
    const e: PayloadEntry = {rel: s.rel, mode: st ? st.mode & 0o777 : ('mode' in s && s.mode !== undefined ? s.mode : 0o600), size: st ? st.size : (s as {data: Buffer}).data.length};
    const header = Buffer.from(JSON.stringify({p: e.rel, m: e.mode, s: e.size}));
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(header.length);
    push({bytes: Buffer.concat([len, header])});
    push('abs' in s ? {file: s.abs, length: e.size} : {bytes: s.data});
    entries.push(e);
  }
  push({bytes: Buffer.alloc(4)});
  return {bytes: at, entries, segments};
}

/** `n` equal ranges covering `bytes` (ceil-sized, so the last ones may be short or empty). */
export function cutRanges(bytes: number, n: number): {partSize: number; ranges: PayloadRange[]} {
  const partSize = Math.ceil(bytes / n);
  const ranges = Array.from({length: n}, (_, i) => {
    const offset = i * partSize;
    return {offset, size: Math.max(0, Math.min(partSize, bytes - offset))};
  });
  return {partSize, ranges};
}

/**
 * The snapshot's whole-content hash: sha256 over its parts' sha256 digests in order (a one-level
 * hash tree). Each part is checked against its own hash, so the whole needs no second pass over the
 * bytes, and parts can be cut and checked in parallel.
 */
export function rootHash(partHashes: readonly string[]): string {
  const h = crypto.createHash('sha256');
  for (const p of partHashes) h.update(Buffer.from(p, 'hex'));
  return h.digest('hex');
}

/**
 * Reads any byte range of a planned payload from its sources, sequentially within a range (one file
 * open at a time). A file that has shrunk since it was planned is refused: the snapshot would be torn.
 */
export class PayloadReader {
  private fd: number | undefined;
  private fdFile: string | undefined;
  private seg = 0;

  constructor(private readonly plan: PayloadPlan) {}

  /** Fills `buf` with the payload's bytes from `at`; returns how many (fewer only at the end). */
  read(at: number, buf: Buffer): number {
    const segs = this.plan.segments;
    let filled = 0;
    // Ranges are read forwards, so the segment cursor only moves back when a new range starts earlier.
    if (this.seg >= segs.length || segs[this.seg]!.at > at) this.seg = 0;
    while (filled < buf.length && at < this.plan.bytes) {
      while (this.seg < segs.length && segs[this.seg]!.at + segs[this.seg]!.length <= at) this.seg++;
      const s = segs[this.seg];
      if (!s) break;
      const within = at - s.at;
      const n = Math.min(buf.length - filled, s.length - within);
      if ('bytes' in s) s.bytes.copy(buf, filled, within, within + n);
      else this.readFile(s.file, within, buf.subarray(filled, filled + n));
      filled += n;
      at += n;
    }
    return filled;
  }

  private readFile(file: string, position: number, into: Buffer): void {
    if (this.fdFile !== file) {
      this.close();
      this.fd = fs.openSync(file, 'r');
      this.fdFile = file;
    }
    let got = 0;
    while (got < into.length) {
      const n = fs.readSync(this.fd!, into, got, into.length - got, position + got);
      if (n === 0) throw new UsageError(`${file} shrank while being snapshotted; retry`);
      got += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.fdFile = undefined;
  }
}
