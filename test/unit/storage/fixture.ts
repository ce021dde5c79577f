/**
 * A tree and a transaction over it that touches files in every way a commit can (create, overwrite
 * with a new mode, delete, rename onto a new path and onto an existing file, nested new directories,
 * a file replaced by a directory, staged data renamed), plus snapshots that compare trees exactly.
 * Shared by the unit tests and the crash child (test/helpers/txn-child.ts).
 */
import type {TxnFaultStep} from '../../../src/core/storage/index.js';
import {createHash} from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type {StateTransaction} from '../../../src/core/storage/index.js';

/** Deterministic bytes, so before and after trees are the same in every run and process. */
export function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let off = 0; off < n; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

const SEED: Record<string, {data: Buffer | string; mode: number}> = {
  'a.txt': {data: 'alpha\n', mode: 0o644},
  'b.bin': {data: bytes('b', 4096), mode: 0o600},
  'keep.txt': {data: 'untouched\n', mode: 0o644},
  'keep2.txt': {data: 'replaced by a rename\n', mode: 0o640},
  'dir/c.txt': {data: 'gamma\n', mode: 0o640},
  'dir/sub/d.txt': {data: 'delta\n', mode: 0o600},
  'old/e.txt': {data: 'epsilon\n', mode: 0o644},
  f: {data: 'a file that becomes a directory\n', mode: 0o600},
};

export function seedTree(root: string): void {
  fs.mkdirSync(path.join(root, 'emptydir'), {recursive: true});
  fs.chmodSync(path.join(root, 'emptydir'), 0o755);
  for (const [rel, {data, mode}] of Object.entries(SEED)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), {recursive: true});
    fs.writeFileSync(abs, data);
    fs.chmodSync(abs, mode);
  }
}

/** The scenario transaction: 8 files put, 5 removed, 3 directories created (16 apply steps). */
export function scenario(tx: StateTransaction): void {
  tx.write('a.txt', 'alpha v2\n', {mode: 0o600});
  tx.write('new/deep/n.txt', 'nu\n', {mode: 0o640});
  tx.write('big.dat', bytes('big', 300 * 1024));
  tx.delete('dir/c.txt');
  tx.rename('b.bin', 'dir/sub/b.bin');
  tx.rename('dir/sub/d.txt', 'a2.txt');
  tx.rename('old/e.txt', 'keep2.txt');
  tx.delete('f');
  tx.write('f/g.txt', 'gee\n', {mode: 0o644});
  tx.write('x.txt', 'ex\n');
  tx.rename('x.txt', 'y.txt');
  tx.delete('missing.txt');
}

export const SCENARIO_APPLY_STEPS = 16;

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  sha256?: string;
}
export type Tree = Record<string, TreeEntry>;

/** Every path under `root` (the transaction area included, if there) with its type, mode and content hash. */
export function snapshot(root: string): Tree {
  const out: Tree = {};
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = fs.lstatSync(path.join(root, r));
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out[r] = {type: 'dir', mode};
        walk(r);
      } else if (st.isFile()) {
        out[r] = {type: 'file', mode, sha256: createHash('sha256').update(fs.readFileSync(path.join(root, r))).digest('hex')};
      } else {
        out[r] = {type: st.isSymbolicLink() ? 'symlink' : 'other', mode};
      }
    }
  };
  walk('');
  return out;
}

/** Which of two snapshots `t` equals exactly, or 'neither'. */
export function which(t: Tree, before: Tree, after: Tree): 'before' | 'after' | 'neither' {
  const s = JSON.stringify(t);
  if (s === JSON.stringify(before)) return 'before';
  if (s === JSON.stringify(after)) return 'after';
  return 'neither';
}

/** Where a crash at each commit step must leave the tree: before the commit mark, before; from it on, after. */
export const CRASH_OUTCOME: Record<TxnFaultStep, 'before' | 'after' | 'n/a'> = {
  'after-lock': 'before',
  'mid-stage': 'before',
  'after-stage': 'before',
  'mid-journal': 'before',
  'after-journal': 'before',
  'after-commit-mark': 'after',
  'mid-apply': 'after',
  'after-apply': 'after',
  'after-journal-removed': 'after',
  'before-unlock': 'after',
  'after-rollback-mark': 'before',
  'mid-rollback': 'before',
  'recover-mid-redo': 'n/a',
  'recover-mid-undo': 'n/a',
  'recover-before-cleanup': 'n/a',
};
