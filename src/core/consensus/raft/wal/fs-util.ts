import {closeSync, fsyncSync, openSync, renameSync, writeSync} from 'node:fs';
import {dirname} from 'node:path';

/** Node's fs errors carry a string `code`; narrow without `any`. */
export function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** Writes all of `buf` at `position` (writeSync may write less than asked). */
export function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/**
 * fsync a directory so a create/rename/unlink inside it survives a crash. Platforms that cannot
 * open or sync a directory (Windows, some network file systems) make this a no-op.
 */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes(errCode(e) ?? '')) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes(errCode(e) ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Atomic durable replace: write `<path>.tmp`, fsync it, rename over `path`, fsync the directory.
 * A crash leaves either the old file (plus a stray .tmp, removed on open) or the complete new one.
 * `chunks` are written in order so a large file never has to be concatenated in memory.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>, beforeRename?: () => void): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let pos = 0;
    for (const c of chunks) {
      writeAll(fd, c, pos);
      pos += c.length;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  beforeRename?.();
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}
