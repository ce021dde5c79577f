import {createHash} from 'node:crypto';
import {closeSync, fchmodSync, fsyncSync, openSync, readFileSync} from 'node:fs';

import {writeAll} from '../consensus/raft/wal/fs-util.js';
import {InternalError, SwarmError} from '../errors.js';
import {checkRel} from './paths.js';

/**
 * The journal of one commit, in its txn dir. It is both redo and undo log: for every touched path,
 * `after` names the staged file (in the txn dir) that becomes its content, or null to delete it;
 * `before` names a hard link to its old content, or null if it did not exist. `dirs` are the
 * directories the commit creates (shallowest first), removed again by a rollback.
 *
 * Its state is its file name: journal.pending (being written: not committed), journal (committed:
 * recovery rolls forward), journal.rollback (an error while applying: recovery rolls back).
 */
export interface JournalEntry {
  path: string;
  after: string | null;
  before: string | null;
}

export interface Journal {
  version: 1;
  txid: string;
  dirMode: number;
  dirs: string[];
  entries: JournalEntry[];
}

export const JOURNAL_PENDING = 'journal.pending';
export const JOURNAL_COMMITTED = 'journal';
export const JOURNAL_ROLLBACK = 'journal.rollback';

const STAGED_NAME = /^(?:new|old)-\d+$/;

/** sha256 of the body, a newline, the JSON body: a torn or damaged journal is detected, never trusted. */
export function encodeJournal(j: Journal): Buffer {
  const body = JSON.stringify(j);
  return Buffer.from(`${createHash('sha256').update(body).digest('hex')}\n${body}`);
}

/** Writes a journal file and fsyncs it; `midway` runs after the first half (the torn-journal fault point). */
export function writeJournalFile(file: string, j: Journal, midway: () => void): void {
  const buf = encodeJournal(j);
  const half = buf.length >> 1;
  const fd = openSync(file, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeAll(fd, buf.subarray(0, half), 0);
    midway();
    writeAll(fd, buf.subarray(half), half);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function corrupt(file: string, why: string): InternalError {
  return new InternalError(`state transaction journal ${file} is corrupt (${why}); the state under it may be half-changed: restore it from a backup`);
}

/**
 * Reads a committed journal. It was complete and fsynced before being renamed to its committed
 * name, so any defect is real damage: refused loudly. Paths are re-checked, so a forged journal
 * cannot make recovery write outside the root.
 */
export function readJournalFile(file: string): Journal {
  const text = readFileSync(file, 'utf8');
  const nl = text.indexOf('\n');
  if (nl < 0) throw corrupt(file, 'no checksum line');
  const body = text.slice(nl + 1);
  if (createHash('sha256').update(body).digest('hex') !== text.slice(0, nl)) throw corrupt(file, 'checksum mismatch');
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw corrupt(file, 'not JSON');
  }
  if (!isJournal(v)) throw corrupt(file, 'unexpected shape');
  try {
    for (const d of v.dirs) checkRel(d);
    for (const e of v.entries) checkRel(e.path);
  } catch (e) {
    if (e instanceof SwarmError) throw corrupt(file, e.message);
    throw e;
  }
  return v;
}

function isStagedRef(v: unknown): v is string | null {
  return v === null || (typeof v === 'string' && STAGED_NAME.test(v));
}

function isJournal(v: unknown): v is Journal {
  if (typeof v !== 'object' || v === null) return false;
  const j = v as Record<string, unknown>;
  return (
    j.version === 1 &&
    typeof j.txid === 'string' &&
    typeof j.dirMode === 'number' &&
    Array.isArray(j.dirs) &&
    j.dirs.every((d) => typeof d === 'string') &&
    Array.isArray(j.entries) &&
    j.entries.every((e: unknown) => {
      if (typeof e !== 'object' || e === null) return false;
      const r = e as Record<string, unknown>;
      return typeof r.path === 'string' && isStagedRef(r.after) && isStagedRef(r.before);
    })
  );
}
