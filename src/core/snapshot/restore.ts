import * as fs from 'node:fs';

import {StateTransaction} from '../storage/index.js';
import {PayloadExtractor} from './payload-extract.js';

/**
 * Writes a payload stream's files under `target` in one StateTransaction: after a crash at any point,
 * and recovery, the target holds wholly what it held before or wholly the snapshot's files.
 * `feed` writes the stream into the extractor as it arrives; the files land in a scratch dir beside
 * the target (same filesystem), each fsynced while later ones are written, and the transaction then
 * links them in. If `feed` throws (a bad copy, a lost holder), the scratch dir is removed and the target is
 * untouched. Memory stays flat whatever the size.
 */
export async function restoreStream(target: string, feed: (x: PayloadExtractor) => Promise<void>): Promise<number> {
  fs.mkdirSync(target, {recursive: true, mode: 0o700});
  const scratch = `${target.replace(/\/+$/, '')}.restore-scratch`;
  fs.rmSync(scratch, {recursive: true, force: true});
  fs.mkdirSync(scratch, {mode: 0o700});
  const x = new PayloadExtractor(scratch);
  try {
    let files;
    try {
      await feed(x);
      files = await x.finish();
    } catch (err) {
      await x.abandon();
      throw err;
    }
    const tx = StateTransaction.begin(target);
    try {
      for (const f of files) tx.writeFrom(f.rel, f.tmp, {mode: f.mode});
      tx.commit();
    } catch (err) {
      try {
        tx.abort();
      } catch {
        // commit() itself failed and already rolled back
      }
      throw err;
    }
    return files.length;
  } finally {
    fs.rmSync(scratch, {recursive: true, force: true});
  }
}
