import * as fs from 'node:fs';

import {UsageError} from '../errors.js';
import {atomicWriteFile} from '../storage/atomic-file.js';

/**
 * Writes a file holding key material: 0600, durably and atomically (a crash leaves the old file or
 * the whole new one).
 */
export function writeSecretFile(file: string, data: Buffer | string): void {
  atomicWriteFile(file, data, 0o600);
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
