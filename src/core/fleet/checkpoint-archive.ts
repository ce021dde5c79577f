import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import {pack, unpack} from 'msgpackr';

import {RefusedError, UsageError} from '../errors.js';

/**
 * A task's work dir as one archive (gzip of a msgpack list of entries), for teleport. The work dir was
 * written by untrusted code, so packing never follows a link, and unpacking refuses any path that
 * leaves the target, writes files before links (nothing can be written through a link it made), and
 * skips devices, fifos and sockets. Sizes are bounded both ways.
 */
export interface ArchiveLimits {
  bytes: number;
  entries: number;
}

export const ARCHIVE_LIMITS: ArchiveLimits = {bytes: 256 * 1024 * 1024, entries: 100_000};

type Entry = {p: string; t: 'd'; m: number} | {p: string; t: 'f'; m: number; d: Buffer} | {p: string; t: 'l'; l: string};

export function packDir(dir: string, limits: ArchiveLimits = ARCHIVE_LIMITS): Buffer {
  const entries: Entry[] = [];
  let bytes = 0;
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, p);
      const st = fs.lstatSync(full);
      if (entries.length >= limits.entries) throw new RefusedError(`work dir has more than ${limits.entries} entries; too big to checkpoint`);
      if (st.isSymbolicLink()) entries.push({p, t: 'l', l: fs.readlinkSync(full)});
      else if (st.isDirectory()) {
        entries.push({p, t: 'd', m: st.mode & 0o7777});
        walk(p);
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes > limits.bytes) throw new RefusedError(`work dir is over ${limits.bytes} bytes; too big to checkpoint`);
        const fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try {
          entries.push({p, t: 'f', m: st.mode & 0o7777, d: fs.readFileSync(fd)});
        } finally {
          fs.closeSync(fd);
        }
      }
    }
  };
  walk('');
  return zlib.gzipSync(pack(entries));
}

function safeRel(p: unknown): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) throw new UsageError('checkpoint: bad entry path');
  const norm = path.posix.normalize(p);
  if (norm.startsWith('/') || norm === '..' || norm.startsWith('../') || norm !== p) throw new UsageError(`checkpoint: entry path ${JSON.stringify(p.slice(0, 80))} leaves the work dir`);
  return norm;
}

/** Restores an archive into `dir` (which should be empty). Returns the number of entries. */
export function unpackDir(archive: Buffer, dir: string, limits: ArchiveLimits = ARCHIVE_LIMITS): number {
  let raw: Buffer;
  try {
    raw = zlib.gunzipSync(archive, {maxOutputLength: limits.bytes * 2});
  } catch {
    throw new UsageError('checkpoint: archive is corrupt or too large');
  }
  const entries = unpack(raw) as unknown;
  if (!Array.isArray(entries) || entries.length > limits.entries) throw new UsageError('checkpoint: archive is malformed');
  const links: {p: string; l: string}[] = [];
  for (const e of entries as Partial<Entry & {d: Buffer; l: string; m: number}>[]) {
    const rel = safeRel(e?.p);
    const full = path.join(dir, rel);
    if (e.t === 'd') fs.mkdirSync(full, {recursive: true, mode: (e.m ?? 0o755) & 0o1777});
    else if (e.t === 'f' && e.d instanceof Uint8Array) {
      fs.mkdirSync(path.dirname(full), {recursive: true});
      fs.writeFileSync(full, e.d!, {mode: (e.m ?? 0o644) & 0o777, flag: 'wx'});
    } else if (e.t === 'l' && typeof e.l === 'string') links.push({p: rel, l: e.l});
    else throw new UsageError('checkpoint: archive has an unknown entry');
  }
  for (const {p, l} of links) {
    try {
      fs.symlinkSync(l, path.join(dir, p));
    } catch {
      // A link clashing with a file or dir is dropped: never replace what was restored.
    }
  }
  return entries.length;
}
