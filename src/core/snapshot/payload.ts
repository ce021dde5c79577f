import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {UsageError} from '../errors.js';

/**
 * A snapshot's contents as one byte stream: a magic line, then for each file a length-prefixed JSON
 * header (path, mode, size) and its bytes, then a zero length. Written and read in bounded chunks,
 * so its size never has to fit in memory; hashed, whole and part by part, as it is written.
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

/** One of the equal byte ranges a payload is cut into (the last ones may be short or empty). */
export interface PayloadPart {
  offset: number;
  size: number;
  sha256: string;
}

/**
 * Writes the payload to `out` (a scratch file: it is not fsynced, its readers are in this process
 * and it is removed after use) and returns its size, its sha256, and the sha256 of each of the
 * `parts` ranges of `partSize` bytes. Sizes are taken from one stat per file up front, so the total
 * (and the cut) is known before writing and every byte is read and hashed once. The event loop gets
 * a turn after every MiB: a large payload must not hold up the node's heartbeats and Raft ticks.
 */
export async function writePayload(out: string, sources: readonly PayloadSource[], parts = 1): Promise<{bytes: number; sha256: string; entries: PayloadEntry[]; partSize: number; parts: PayloadPart[]}> {
  const planned = sources.map((s) => {
    const st = 'abs' in s ? fs.statSync(s.abs) : undefined;
    const e: PayloadEntry = {rel: s.rel, mode: st ? st.mode & 0o777 : ('mode' in s && s.mode !== undefined ? s.mode : 0o600), size: st ? st.size : (s as {data: Buffer}).data.length};
    return {s, e, header: Buffer.from(JSON.stringify({p: e.rel, m: e.mode, s: e.size}))};
  });
  const bytes = MAGIC.length + planned.reduce((a, x) => a + 4 + x.header.length + x.e.size, 0) + 4;
  const partSize = Math.ceil(bytes / parts);
  const partHashes = Array.from({length: parts}, () => crypto.createHash('sha256'));

  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(out, 'w', 0o600);
  let pos = 0;
  const put = (b: Buffer): void => {
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off, pos + off);
    hash.update(b);
    // The bytes of `b` that fall in each part's range go to that part's hash.
    for (let at = 0; at < b.length; ) {
      const i = Math.floor((pos + at) / partSize);
      const n = Math.min(b.length - at, (i + 1) * partSize - (pos + at));
      partHashes[i]!.update(b.subarray(at, at + n));
      at += n;
    }
    pos += b.length;
  };
  const buf = Buffer.allocUnsafe(CHUNK);
  let yielded = 0;
  const breathe = async (): Promise<void> => {
    if (pos - yielded < CHUNK) return;
    yielded = pos;
    await new Promise((resolve) => setImmediate(resolve));
  };
  try {
    put(MAGIC);
    for (const {s, e, header} of planned) {
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
            await breathe();
          }
        } finally {
          fs.closeSync(src);
        }
      }
      await breathe();
    }
    put(Buffer.alloc(4));
  } finally {
    fs.closeSync(fd);
  }
  const cut = partHashes.map((h, i): PayloadPart => {
    const offset = i * partSize;
    return {offset, size: Math.max(0, Math.min(partSize, bytes - offset)), sha256: h.digest('hex')};
  });
  return {bytes, sha256: hash.digest('hex'), entries: planned.map((x) => x.e), partSize, parts: cut};
}

/**
 * A payload file's entries, one by one: each with a generator of its bytes in bounded chunks (to be
 * drained before asking for the next entry). A malformed payload (bad magic, header, path or size)
 * is refused. A generator, so the caller may yield to the event loop between entries.
 */
export function* payloadEntries(file: string): Generator<{entry: PayloadEntry; chunks: () => Generator<Buffer>}> {
  const fd = fs.openSync(file, 'r');
  const total = fs.fstatSync(fd).size;
  let pos = 0;
  const read = (n: number): Buffer => {
    if (pos + n > total) throw new UsageError('snapshot payload is truncated');
    const b = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) off += fs.readSync(fd, b, off, n - off, pos + off);
    pos += n;
    return b;
  };
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
      const entry: PayloadEntry = {rel, mode: (h.m as number) & 0o777, size: h.s as number};
      const start = pos;
      yield {
        entry,
        chunks: function* () {
          let left = entry.size;
          pos = start;
          while (left > 0) {
            const b = read(Math.min(CHUNK, left));
            left -= b.length;
            yield b;
          }
        },
      };
      pos = start + entry.size;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Every entry of a payload, through `onEntry` (see payloadEntries). */
export function readPayload(file: string, onEntry: (e: PayloadEntry, chunks: () => Generator<Buffer>) => void): PayloadEntry[] {
  const entries: PayloadEntry[] = [];
  for (const {entry, chunks} of payloadEntries(file)) {
    onEntry(entry, chunks);
    entries.push(entry);
  }
  return entries;
}
