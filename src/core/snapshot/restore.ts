import * as fs from 'node:fs';
import * as path from 'node:path';

import {StateTransaction} from '../storage/index.js';
import {readPayload} from './payload.js';

/**
 * Writes a verified payload's files under `target` in one StateTransaction: after a crash at any
 * point, and recovery, the target holds wholly what it held before or wholly the snapshot's files.
 * Each file is first extracted (in bounded chunks) into a scratch dir beside the target, on the same
 * filesystem, and linked into the transaction from there: memory stays flat whatever the size.
 */
export function restorePayload(payload: string, target: string): number {
  fs.mkdirSync(target, {recursive: true, mode: 0o700});
  const scratch = `${target.replace(/\/+$/, '')}.restore-scratch`;
  fs.rmSync(scratch, {recursive: true, force: true});
  fs.mkdirSync(scratch, {mode: 0o700});
  const tx = StateTransaction.begin(target);
  let files = 0;
  try {
    readPayload(payload, (e, chunks) => {
      const tmp = path.join(scratch, String(files));
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        let pos = 0;
        for (const c of chunks()) {
          let off = 0;
          while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off, pos + off);
          pos += c.length;
        }
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      tx.writeFrom(e.rel, tmp, {mode: e.mode});
      files++;
    });
    tx.commit();
  } catch (err) {
    try {
      tx.abort();
    } catch {
      // commit() itself failed and already rolled back
    }
    throw err;
  } finally {
    fs.rmSync(scratch, {recursive: true, force: true});
  }
  return files;
}
