import {lstatSync, realpathSync, statSync} from 'node:fs';
import {join} from 'node:path';

import {errCode} from '../consensus/raft/wal/fs-util.js';
import {NotFoundError, UsageError} from '../errors.js';

/** The transaction area inside a root: the lock file and one directory per commit in flight. */
export const TXN_DIR = '.swarm-txn';

/**
 * Checks a path relative to a transaction's root and returns its segments. Only plain relative
 * paths are accepted ("a/b.json"): no absolute paths, no "." or ".." (so nothing escapes the root),
 * no empty segments, no NUL, and nothing inside the transaction area.
 */
export function checkRel(rel: string): string[] {
  if (typeof rel !== 'string' || rel === '') throw new UsageError('a transaction path must be a non-empty relative path');
  if (rel.includes('\0')) throw new UsageError(`transaction path ${JSON.stringify(rel)} contains a NUL byte`);
  if (rel.startsWith('/')) throw new UsageError(`transaction path ${rel} is absolute; give it relative to the root`);
  const segs = rel.split('/');
  for (const s of segs) {
    if (s === '' || s === '.' || s === '..') {
      throw new UsageError(`transaction path ${rel} must be a plain relative path (no "..", ".", or empty segments)`);
    }
  }
  if (segs[0] === TXN_DIR) throw new UsageError(`transaction path ${rel} is inside ${TXN_DIR}, which the transaction itself uses`);
  return segs;
}

/** The parent of a checked relative path, or undefined for a top-level one. */
export function parentRel(rel: string): string | undefined {
  const i = rel.lastIndexOf('/');
  return i < 0 ? undefined : rel.slice(0, i);
}

/** The ancestors of a checked relative path, shallowest first ("a/b/c" -> ["a", "a/b"]). */
export function ancestorsRel(rel: string): string[] {
  const segs = rel.split('/');
  return segs.slice(0, -1).map((_, i) => segs.slice(0, i + 1).join('/'));
}

/** How deep a checked relative path is (1 for "a"). */
export function depthRel(rel: string): number {
  return rel.split('/').length;
}

export type DiskKind = 'file' | 'dir' | 'absent';

/**
 * What is at `rel` under `root` on disk, refusing anything a transaction must not follow or
 * touch: a symlink anywhere on the path (it could lead outside the root), or a special file.
 * A regular file on the way ("a" when asked for "a/b") makes the path absent, as open() would say.
 */
export function probe(root: string, rel: string): DiskKind {
  const segs = checkRel(rel);
  for (let i = 1; i <= segs.length; i++) {
    const sub = segs.slice(0, i).join('/');
    let st;
    try {
      st = lstatSync(join(root, sub));
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'absent';
      throw e;
    }
    if (st.isSymbolicLink()) throw new UsageError(`${sub} under ${root} is a symlink; transactions refuse to follow symlinks`);
    const last = i === segs.length;
    if (st.isDirectory()) {
      if (last) return 'dir';
      continue;
    }
    if (!st.isFile()) throw new UsageError(`${sub} under ${root} is not a regular file or directory`);
    if (last) return 'file';
    return 'absent';
  }
  return 'absent';
}

/** The root's real path (symlinks above the root are fine; below it they are refused). It must be a directory. */
export function resolveRoot(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch (e) {
    if (errCode(e) === 'ENOENT') throw new NotFoundError(`state directory ${root} does not exist; create it first`);
    throw e;
  }
  if (!statSync(real).isDirectory()) throw new UsageError(`state directory ${root} is not a directory`);
  return real;
}
