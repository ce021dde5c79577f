import {randomBytes} from 'node:crypto';
import {linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

import {errCode} from '../consensus/raft/wal/fs-util.js';
import {ConflictError, UsageError} from '../errors.js';

/**
 * One writer per root, across processes: `<root>/.swarm-txn/lock` holds the owner's pid, the boot
 * id and the process start time. It appears atomically (written to a temp file, then hard-linked
 * into place, which fails if it exists), so no reader ever sees a half-written owner. A lock whose
 * owner is gone (no such pid, a zombie, a pid reused by a younger process, another boot) is stale
 * and broken; a live owner is waited for (in turn: see acquire), then ConflictError.
 */

/** Roots (their .swarm-txn dirs) locked by this process: a second begin() fails fast instead of waiting on itself. */
const held = new Set<string>();

interface Owner {
  pid: number;
  boot?: string;
  start?: string;
}

/** An unreadable lock (a crash between create and write on a filesystem without hard links) is stale after this. */
const UNREADABLE_STALE_MS = 10_000;

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const BOOT_ID = readOptional('/proc/sys/kernel/random/boot_id');

/** Linux: a process's state letter and start time (clock ticks since boot) from /proc/<pid>/stat. */
function procStat(pid: number): {state: string; start: string} | undefined {
  const text = readOptional(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses; fields after the last ')' are plain.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  return state === undefined || start === undefined ? undefined : {state, start};
}

const MY_START = procStat(process.pid)?.start;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseOwner(text: string): Owner | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || !('pid' in v) || typeof v.pid !== 'number') return undefined;
    const o: Owner = {pid: v.pid};
    if ('boot' in v && typeof v.boot === 'string') o.boot = v.boot;
    if ('start' in v && typeof v.start === 'string') o.start = v.start;
    return o;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM'; // exists, owned by someone else
  }
}

/** Whether the owner recorded in a lock file is certainly gone. Called only while this process holds no lock on it. */
function isStale(owner: Owner): boolean {
  if (owner.boot !== undefined && BOOT_ID !== undefined && owner.boot !== BOOT_ID) return true;
  // This very pid, yet not held here: left by a commit that was halted (the in-process crash stand-in),
  // or by an earlier process that had the same pid (containers restart pids from 1).
  if (owner.pid === process.pid) return true;
  if (pidGone(owner.pid)) return true; // no such process, or exited and not yet reaped by its parent (a zombie)
  const start = procStat(owner.pid)?.start;
  return owner.start !== undefined && start !== undefined && owner.start !== start; // the pid now belongs to a younger process
}

export class RootLock {
  private constructor(
    private readonly dir: string,
    private readonly ino: number,
  ) {}

  /**
   * Takes the lock on `dir` (the root's .swarm-txn, created 0700 if missing), breaking a stale one,
   * waiting up to `timeoutMs` for live owners. Waiters queue (a `wait.<time>.<pid>.<rand>` file each)
   * and the longest waiting goes next, so a process committing back to back cannot starve the others.
   */
  static acquire(dir: string, timeoutMs: number): RootLock {
    if (held.has(dir)) throw new ConflictError(`a state transaction on ${dir} is already open in this process; commit or abort it first`);
    const lockFile = join(dir, 'lock');
    const deadline = Date.now() + timeoutMs;
    let ticket: string | undefined;
    let wait = 1;
    try {
      for (;;) {
        ensureLockDir(dir);
        let holder = 'processes queued before this one';
        if (!waiterAhead(dir, ticket)) {
          const ino = tryCreate(dir, lockFile);
          if (ino !== undefined) {
            held.add(dir);
            return new RootLock(dir, ino);
          }
          const seen = inspect(lockFile);
          if (seen === undefined) continue; // released meanwhile
          if (seen.stale) {
            breakStale(dir, lockFile, seen.ino);
            continue;
          }
          holder = seen.owner === undefined ? 'another process' : `pid ${seen.owner.pid}`;
        }
        if (Date.now() >= deadline) {
          throw new ConflictError(`${dir} is locked by ${holder}, which is changing the same state; retry when it is done`);
        }
        ticket ??= enqueue(dir);
        sleepSync(wait);
        wait = Math.min(wait * 2, 20);
      }
    } finally {
      if (ticket !== undefined) unlinkQuietly(join(dir, ticket));
    }
  }

  /**
   * Releases the lock and removes the then-empty .swarm-txn dir, so a finished commit leaves no trace.
   * `keepFile` leaves the lock file behind, as a crash would (used for FaultHalt).
   */
  release(keepFile = false): void {
    held.delete(this.dir);
    if (keepFile) return;
    const lockFile = join(this.dir, 'lock');
    try {
      if (lstatSync(lockFile).ino === this.ino) unlinkSync(lockFile);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') throw e;
    }
    try {
      rmdirSync(this.dir);
    } catch (e) {
      // Not empty: another process is taking the lock, or leftovers await recovery. Either is fine.
      if (!['ENOTEMPTY', 'EEXIST', 'ENOENT', 'EBUSY'].includes(errCode(e) ?? '')) throw e;
    }
  }

  /** Under the lock: removes temp and queue files that crashed lock takers left behind. */
  sweepTemps(): void {
    for (const name of readdirSync(this.dir)) {
      const pid = tempOwner(name);
      if (pid === undefined) continue;
      if (pid !== process.pid && !pidGone(pid)) continue; // mid-acquire right now
      unlinkQuietly(join(this.dir, name));
    }
  }
}

/** The pid in the name of a lock temp file or queue ticket; undefined for other names. */
function tempOwner(name: string): number | undefined {
  const m = /^(?:lock\.(?:stale\.)?|wait\.[0-9a-z]+\.)(\d+)\.[0-9a-f]+$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

function pidGone(pid: number): boolean {
  if (!pidAlive(pid)) return true;
  const st = procStat(pid)?.state;
  return st === 'Z' || st === 'X';
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if (errCode(e) !== 'ENOENT') throw e;
  }
}

/** Joins the queue: a ticket whose name sorts by time. Undefined if the dir vanished (the caller retries). */
function enqueue(dir: string): string | undefined {
  const name = `wait.${Date.now().toString(36).padStart(9, '0')}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    writeFileSync(join(dir, name), '', {flag: 'wx', mode: 0o600});
    return name;
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether a live process queued before `ticket` (before anyone, without one); tickets of dead ones are removed. */
function waiterAhead(dir: string, ticket: string | undefined): boolean {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return false;
    throw e;
  }
  for (const name of names.filter((n) => n.startsWith('wait.')).sort()) {
    if (ticket !== undefined && name >= ticket) break;
    const pid = tempOwner(name);
    if (pid === undefined || pid === process.pid) continue;
    if (!pidGone(pid)) return true;
    unlinkQuietly(join(dir, name));
  }
  return false;
}

function ensureLockDir(dir: string): void {
  for (;;) {
    try {
      mkdirSync(dir, {mode: 0o700});
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
    }
    try {
      if (lstatSync(dir).isDirectory()) return;
    } catch (e) {
      if (errCode(e) === 'ENOENT') continue;
      throw e;
    }
    throw new UsageError(`${dir} is not a directory (a symlink?); remove it so transactions can use it`);
  }
}

function tempName(dir: string, stale = false): string {
  return join(dir, `lock.${stale ? 'stale.' : ''}${process.pid}.${randomBytes(6).toString('hex')}`);
}

/** Creates the lock file with our owner record; its inode, or undefined if someone holds it. */
function tryCreate(dir: string, lockFile: string): number | undefined {
  const owner: Owner = {pid: process.pid};
  if (BOOT_ID !== undefined) owner.boot = BOOT_ID;
  if (MY_START !== undefined) owner.start = MY_START;
  const text = `${JSON.stringify(owner)}\n`;
  const tmp = tempName(dir);
  try {
    writeFileSync(tmp, text, {mode: 0o600, flag: 'wx'});
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined; // the dir was removed by a releasing owner: retry
    throw e;
  }
  let ino: number;
  try {
    ino = lstatSync(tmp).ino;
    linkSync(tmp, lockFile);
  } catch (e) {
    const code = errCode(e);
    if (code === 'EEXIST' || code === 'ENOENT') return undefined;
    if (code !== 'EPERM' && code !== 'ENOTSUP') throw e;
    // No hard links here: exclusive create instead (a crash between create and write leaves an unreadable lock).
    try {
      writeFileSync(lockFile, text, {mode: 0o600, flag: 'wx'});
      ino = lstatSync(lockFile).ino;
    } catch (e2) {
      if (errCode(e2) === 'EEXIST' || errCode(e2) === 'ENOENT') return undefined;
      throw e2;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // gone with its directory; nothing to clean
    }
  }
  return ino;
}

function inspect(lockFile: string): {ino: number; owner: Owner | undefined; stale: boolean} | undefined {
  let ino: number;
  let mtimeMs: number;
  let text: string;
  try {
    ({ino, mtimeMs} = statSync(lockFile));
    text = readFileSync(lockFile, 'utf8');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  const owner = parseOwner(text);
  const stale = owner === undefined ? Date.now() - mtimeMs > UNREADABLE_STALE_MS : isStale(owner);
  return {ino, owner, stale};
}

/**
 * Removes a stale lock without ever removing a live one: the lock is renamed aside (atomic), and if
 * what was moved is not the file judged stale (another taker broke it and locked first), it is put back.
 */
function breakStale(dir: string, lockFile: string, staleIno: number): void {
  const aside = tempName(dir, true);
  try {
    renameSync(lockFile, aside);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return; // someone else broke it
    throw e;
  }
  if (lstatSync(aside).ino !== staleIno) {
    try {
      linkSync(aside, lockFile);
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
    }
  }
  unlinkSync(aside);
}
