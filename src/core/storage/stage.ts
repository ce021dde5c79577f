import {chmodSync, closeSync, constants, copyFileSync, fchmodSync, fsyncSync, linkSync, openSync, statSync} from 'node:fs';

import {errCode, writeAll} from '../consensus/raft/wal/fs-util.js';
import {UsageError} from '../errors.js';

/** Writes new content into the txn dir with its exact mode (fchmod: the umask does not apply) and fsyncs it. */
export function writeStaged(file: string, data: Uint8Array, mode: number): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    fchmodSync(fd, mode);
    writeAll(fd, data, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Keeps the file at `src` as it is now, under `dst` in the txn dir: a hard link, which costs nothing
 * and stays exact because a transaction never writes into an existing file, only renames new ones
 * over it. Where hard links are not allowed (some filesystems, protected_hardlinks) a fsynced copy
 * with the same mode (but this process's owner).
 */
export function keepFile(src: string, dst: string): void {
  try {
    linkSync(src, dst);
    return;
  } catch (e) {
    const code = errCode(e);
    if (code === 'EXDEV') throw new UsageError(`${src} is on another filesystem than its transaction root; a root must be one filesystem`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK') throw e;
  }
  copyFileSync(src, dst, constants.COPYFILE_EXCL);
  chmodSync(dst, statSync(src).mode & 0o7777); // it may be renamed back over `src` on rollback
  const fd = openSync(dst, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Stages a caller-prepared file as new content: linked (or copied) into the txn dir. The caller made
 * it durable (writeFrom's contract), so a link costs no data fsync; only a changed mode is synced.
 */
export function stageFile(src: string, dst: string, mode: number): void {
  keepFile(src, dst);
  if ((statSync(dst).mode & 0o7777) === mode) return;
  chmodSync(dst, mode);
  const fd = openSync(dst, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
