import {randomBytes} from 'node:crypto';
import {closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync} from 'node:fs';
import {basename, dirname, join} from 'node:path';

import {fsyncDir, writeAll} from '../consensus/raft/wal/fs-util.js';

/**
 * Durably replaces one file: a uniquely named temp file next to it (so concurrent writers never
 * share one), with the exact mode, fsynced, renamed over `file`, the directory fsynced. A crash
 * leaves the old file or the whole new one (and perhaps a stray `.<name>.tmp-*`). For several
 * files that must change together, use StateTransaction.
 */
export function atomicWriteFile(file: string, data: Uint8Array | string, mode = 0o600): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      fchmodSync(fd, mode); // exact, whatever the umask
      writeAll(fd, buf, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  fsyncDir(dir);
}
