import * as fs from 'node:fs';
import * as path from 'node:path';
import {setImmediate as nextTurn} from 'node:timers/promises';

import {StateTransaction} from '../storage/index.js';
import {payloadEntries} from './payload.js';

/** fsyncs in flight on the thread pool while extracting (also bounds the open descriptors). */
const SYNC_WINDOW = 32;
/** Give the node's event loop a turn after this many bytes (heartbeats, Raft ticks). */
const YIELD_BYTES = 8 * 1024 * 1024;

/**
 * Writes a verified payload's files under `target` in one StateTransaction: after a crash at any
 * point, and recovery, the target holds wholly what it held before or wholly the snapshot's files.
 * Each file is first extracted (in bounded chunks) into a scratch dir beside the target, on the same
 * filesystem, with its mode, and fsynced on the thread pool, many at a time; the transaction then
 * links the durable files in. Memory stays flat whatever the size, and the node keeps answering.
 */
export async function restorePayload(payload: string, target: string): Promise<number> {
  fs.mkdirSync(target, {recursive: true, mode: 0o700});
  const scratch = `${target.replace(/\/+$/, '')}.restore-scratch`;
  fs.rmSync(scratch, {recursive: true, force: true});
  fs.mkdirSync(scratch, {mode: 0o700});
  try {
    const files: {rel: string; tmp: string; mode: number}[] = [];
    const syncing = new Set<Promise<void>>();
    let sinceYield = 0;
    for (const {entry, chunks} of payloadEntries(payload)) {
      const tmp = path.join(scratch, String(files.length));
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        fs.fchmodSync(fd, entry.mode);
        let pos = 0;
        for (const c of chunks()) {
          let off = 0;
          while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off, pos + off);
          pos += c.length;
        }
      } catch (err) {
        fs.closeSync(fd);
        throw err;
      }
      const done: Promise<void> = fsyncAndClose(fd).finally(() => syncing.delete(done));
      syncing.add(done);
      files.push({rel: entry.rel, tmp, mode: entry.mode});
      if (syncing.size >= SYNC_WINDOW) await Promise.race(syncing);
      sinceYield += entry.size;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await nextTurn();
      }
    }
    await Promise.all(syncing);
    fs.mkdirSync(target, {recursive: true, mode: 0o700});
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

function fsyncAndClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (err) => {
      fs.close(fd, () => (err ? reject(err) : resolve()));
    });
  });
}
