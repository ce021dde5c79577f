import {chmodSync, lstatSync, mkdirSync, renameSync, rmdirSync, rmSync, unlinkSync} from 'node:fs';
import {dirname, join} from 'node:path';

import {errCode, fsyncDir} from '../consensus/raft/wal/fs-util.js';
import {InternalError} from '../errors.js';
import {depthRel} from './paths.js';
import type {Journal, JournalEntry} from './journal.js';

/**
 * Applying a journal forward (redo) or backward (undo). Every primitive is idempotent, and whether
 * it already happened is read off the disk (a staged file that is gone was renamed into place), so
 * recovery can simply run the whole thing again after a crash at any point, including during
 * recovery. `step` runs after each primitive: the mid-apply fault points.
 *
 * Directories touched are fsynced once at the end; the journal is removed only after that, so a
 * power loss cannot keep the journal's removal but lose a rename it covered.
 */

const deepestFirst = (a: JournalEntry, b: JournalEntry): number => depthRel(b.path) - depthRel(a.path);

function isMissing(e: unknown): boolean {
  const code = errCode(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Removes the file at `abs` if there. A directory is fine only where the commit creates one (already done). */
function removeFile(abs: string, createdDirHere: boolean): void {
  let isDir: boolean;
  try {
    isDir = lstatSync(abs).isDirectory();
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  if (isDir) {
    if (createdDirHere) return;
    throw new InternalError(`state transaction: ${abs} became a directory while a file was expected; another writer bypassed the lock`);
  }
  unlinkSync(abs);
}

/** Renames `from` (a file in the txn dir) over `abs`; a `from` already gone was renamed on an earlier run. */
function moveIfThere(from: string, abs: string): void {
  try {
    lstatSync(from);
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  renameSync(from, abs);
}

function makeDir(abs: string, mode: number): void {
  try {
    mkdirSync(abs, {mode});
  } catch (e) {
    if (errCode(e) !== 'EEXIST') throw e;
    if (!lstatSync(abs).isDirectory()) throw new InternalError(`state transaction: cannot create directory ${abs}, a file is in the way`);
  }
  chmodSync(abs, mode); // mkdir's mode is cut by the umask; the journal's mode is exact
}

function removeDir(abs: string): void {
  try {
    rmdirSync(abs);
  } catch (e) {
    if (!isMissing(e)) throw e;
  }
}

/** Rolls a committed journal forward: deletions (deepest first), new directories, then staged files into place. */
export function redo(root: string, txdir: string, j: Journal, step: () => void): void {
  const touched = new Set<string>();
  const created = new Set(j.dirs);
  for (const e of j.entries.filter((x) => x.after === null).sort(deepestFirst)) {
    const abs = join(root, e.path);
    removeFile(abs, created.has(e.path));
    touched.add(dirname(abs));
    step();
  }
  for (const d of j.dirs) {
    const abs = join(root, d);
    makeDir(abs, j.dirMode);
    touched.add(dirname(abs));
    step();
  }
  for (const e of j.entries) {
    if (e.after === null) continue;
    const abs = join(root, e.path);
    moveIfThere(join(txdir, e.after), abs);
    touched.add(dirname(abs));
    step();
  }
  for (const d of touched) fsyncDir(d);
}

/** Rolls a journal back: new files out (or old ones back), new directories removed, deleted files restored. */
export function undo(root: string, txdir: string, j: Journal, step: () => void): void {
  const touched = new Set<string>();
  for (const e of j.entries.filter((x) => x.after !== null).sort(deepestFirst)) {
    const abs = join(root, e.path);
    if (e.before === null) removeFile(abs, false);
    else moveIfThere(join(txdir, e.before), abs);
    touched.add(dirname(abs));
    step();
  }
  for (const d of [...j.dirs].reverse()) {
    const abs = join(root, d);
    removeDir(abs);
    touched.add(dirname(abs));
    step();
  }
  for (const e of j.entries) {
    if (e.after !== null || e.before === null) continue;
    const abs = join(root, e.path);
    moveIfThere(join(txdir, e.before), abs);
    touched.add(dirname(abs));
    step();
  }
  for (const d of touched) {
    try {
      fsyncDir(d);
    } catch (e) {
      if (!isMissing(e)) throw e; // a directory this undo removed
    }
  }
}

/**
 * Ends a transaction whose tree is final and fsynced: the journal (`mark`) goes first and that is
 * made durable, so it can never come back to be replayed over later commits; then the leftovers.
 * `afterMark` runs between the two (a fault point).
 */
export function removeTxnDir(txdir: string, mark: string, afterMark: () => void): void {
  unlinkSync(join(txdir, mark));
  fsyncDir(txdir);
  afterMark();
  rmSync(txdir, {recursive: true, force: true});
}

/** Drops a transaction that was never committed (the tree was not touched). */
export function discardTxnDir(txdir: string): void {
  rmSync(txdir, {recursive: true, force: true});
}
