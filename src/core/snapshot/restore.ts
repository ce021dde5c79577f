import * as fs from 'node:fs';

import {StateTransaction} from '../storage/index.js';
import {readPayload} from './payload.js';

/**
 * Writes a verified payload's files under `target` in one StateTransaction: after a crash at any
 * point, and recovery, the target holds wholly what it held before or wholly the snapshot's files.
 */
export function restorePayload(payload: string, target: string): number {
  fs.mkdirSync(target, {recursive: true, mode: 0o700});
  const tx = StateTransaction.begin(target);
  let files = 0;
  try {
    readPayload(payload, (e, chunks) => {
      const parts: Buffer[] = [];
      for (const c of chunks()) parts.push(c);
      tx.write(e.rel, Buffer.concat(parts), {mode: e.mode});
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
  }
  return files;
}
