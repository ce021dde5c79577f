import * as fs from 'node:fs';
import * as path from 'node:path';

import {UsageError} from '../errors.js';

/**
 * Writes a file holding key material: a temp file created 0600, fsynced, renamed into place, and
 * the directory fsynced, so a crash leaves either the old file or the whole new one.
 */
export function writeSecretFile(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/**
 * Reads a file holding key material. Refuses one that group or others can read (as ssh does):
 * a leaked join secret admits anyone. `what` names the flag that supplies the file.
 */
export function readSecretFile(file: string, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UsageError(`${what}: cannot read ${file}; check the path`);
  }
  if (!st.isFile()) throw new UsageError(`${what}: ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new UsageError(`${what}: ${file} is readable by others; run: chmod 600 ${file}`);
  }
  return fs.readFileSync(file);
}
