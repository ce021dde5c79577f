import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {UsageError} from '../errors.js';

/**
 * A snapshot's contents as one byte stream: a magic line, then for each file a length-prefixed JSON
 * header (path, mode, size) and its bytes, then a zero length. Written and read in bounded chunks,
 * so its size never has to fit in memory; hashed as it is written.
 */
const MAGIC = Buffer.from('SWSNAP1\n');
const CHUNK = 1024 * 1024;
const MAX_HEADER = 64 * 1024;

export type PayloadSource = {rel: string; abs: string} | {rel: string; data: Buffer; mode?: number};

export interface PayloadEntry {
  rel: string;
  mode: number;
  size: number;
}

export function writePayload(out: string, sources: readonly PayloadSource[]): {bytes: number; sha256: string; entries: PayloadEntry[]} {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(out, 'w', 0o600);
  let pos = 0;
  const put = (b: Buffer): void => {
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off, pos + off);
    pos += b.length;
    hash.update(b);
  };
  const entries: PayloadEntry[] = [];
  const buf = Buffer.alloc(CHUNK);
  try {
    put(MAGIC);
    for (const s of sources) {
      const st = 'abs' in s ? fs.statSync(s.abs) : undefined;
      const e: PayloadEntry = {rel: s.rel, mode: st ? st.mode & 0o777 : ('mode' in s && s.mode !== undefined ? s.mode : 0o600), size: st ? st.size : (s as {data: Buffer}).data.length};
      const header = Buffer.from(JSON.stringify({p: e.rel, m: e.mode, s: e.size}));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(header.length);
      put(len);
      put(header);
      if ('data' in s) put(s.data);
      else {
        const src = fs.openSync(s.abs, 'r');
        try {
          let left = e.size;
          let at = 0;
          while (left > 0) {
            const n = fs.readSync(src, buf, 0, Math.min(CHUNK, left), at);
            if (n === 0) throw new UsageError(`${s.abs} shrank while being snapshotted; retry`);
            put(buf.subarray(0, n));
            left -= n;
            at += n;
          }
        } finally {
          fs.closeSync(src);
        }
      }
      entries.push(e);
    }
    put(Buffer.alloc(4));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return {bytes: pos, sha256: hash.digest('hex'), entries};
}

/**
 * Reads a payload file entry by entry; `onEntry` gets each entry's bytes in chunks through `chunk`.
 * A malformed payload (bad magic, header, path or size) is refused.
 */
export function readPayload(file: string, onEntry: (e: PayloadEntry, chunks: () => Generator<Buffer>) => void): PayloadEntry[] {
  const fd = fs.openSync(file, 'r');
  const total = fs.fstatSync(fd).size;
  let pos = 0;
  const read = (n: number): Buffer => {
    if (pos + n > total) throw new UsageError('snapshot payload is truncated');
    const b = Buffer.alloc(n);
    let off = 0;
    while (off < n) off += fs.readSync(fd, b, off, n - off, pos + off);
    pos += n;
    return b;
  };
  const entries: PayloadEntry[] = [];
  try {
    if (!read(MAGIC.length).equals(MAGIC)) throw new UsageError('not a snapshot payload');
    for (;;) {
      const len = read(4).readUInt32BE();
      if (len === 0) break;
      if (len > MAX_HEADER) throw new UsageError('snapshot payload header too large');
      const h = JSON.parse(read(len).toString('utf8')) as {p?: unknown; m?: unknown; s?: unknown};
      if (typeof h.p !== 'string' || !Number.isSafeInteger(h.m) || !Number.isSafeInteger(h.s) || (h.s as number) < 0) throw new UsageError('snapshot payload header is malformed');
      const rel = path.posix.normalize(h.p);
      if (rel !== h.p || rel.startsWith('/') || rel.startsWith('../') || rel === '..') throw new UsageError(`snapshot payload path ${JSON.stringify(h.p.slice(0, 60))} leaves the target`);
      const e: PayloadEntry = {rel, mode: (h.m as number) & 0o777, size: h.s as number};
      const start = pos;
      onEntry(e, function* () {
        let left = e.size;
        pos = start;
        while (left > 0) {
          const b = read(Math.min(CHUNK, left));
          left -= b.length;
          yield b;
        }
      });
      pos = start + e.size;
      entries.push(e);
    }
  } finally {
    fs.closeSync(fd);
  }
  return entries;
}
