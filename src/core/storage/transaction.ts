import {randomBytes} from 'node:crypto';
import {mkdirSync, renameSync, statSync} from 'node:fs';
import {join} from 'node:path';

import {fsyncDir} from '../consensus/raft/wal/fs-util.js';
import {assert, InternalError, SwarmError, UsageError} from '../errors.js';
import {discardTxnDir, redo, removeTxnDir, undo} from './apply.js';
import {FaultHalt, FaultPlan} from './fault.js';
import type {TxnFaultStep} from './fault.js';
import {JOURNAL_COMMITTED, JOURNAL_PENDING, JOURNAL_ROLLBACK, writeJournalFile} from './journal.js';
import type {Journal, JournalEntry} from './journal.js';
import {RootLock} from './lock.js';
import {resolveRoot, TXN_DIR} from './paths.js';
import {recoverLocked, recoverTransactions} from './recover.js';
import type {RecoverOptions, RecoveryReport} from './recover.js';
import {keepFile, stageFile, writeStaged} from './stage.js';
import {StagedView} from './view.js';
import type {Plan} from './view.js';

export interface TxnOptions extends RecoverOptions {
  /** Mode of the directories a commit creates. Default 0o700. */
  dirMode?: number;
}

export interface WriteOptions {
  /** The file's mode, exact (not cut by the umask). Default 0o600: state files often hold secrets. */
  mode?: number;
}

export interface CommitResult {
  /** Undefined when nothing changed (no journal was written). */
  txid: string | undefined;
  /** The paths whose content changed, sorted. */
  changed: string[];
}

type TxnState = 'open' | 'committed' | 'aborted';

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function newTxid(): string {
  return `tx-${Date.now().toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

/**
 * Crash-safe changes to the files under one root: stage writes, deletes and renames, then commit()
 * makes them all or none, even across kill -9 (see README.md for the protocol). Synchronous on
 * purpose: the fsync order is the code order, and nothing else in this process can run between the
 * steps of a commit. Meant for small state files (they are held in memory until commit).
 *
 *   const tx = StateTransaction.begin(dataDir);   // locks the root, recovers an interrupted commit
 *   tx.write('vault/keys.json', json, {mode: 0o600}).delete('vault/old.json');
 *   tx.commit();                                  // or tx.abort()
 *
 * or runTransaction(dataDir, (tx) => ...), which commits, or aborts when the callback throws.
 */
export class StateTransaction {
  private state: TxnState = 'open';
  private readonly view: StagedView;
  private readonly swarmDir: string;

  private constructor(
    /** The root's real path. */
    readonly root: string,
    private readonly lock: RootLock,
    private readonly faults: FaultPlan,
    private readonly dirMode: number,
  ) {
    this.view = new StagedView(root);
    this.swarmDir = join(root, TXN_DIR);
  }

  /**
   * Opens a transaction on `root` (which must exist): takes its lock (waiting up to lockTimeoutMs for
   * another process, then ConflictError), then finishes or undoes any commit a crash interrupted.
   */
  static begin(root: string, opts: TxnOptions = {}): StateTransaction {
    const real = resolveRoot(root);
    const faults = FaultPlan.parse(opts.faults ?? process.env.SWARM_FAULT);
    const lock = RootLock.acquire(join(real, TXN_DIR), opts.lockTimeoutMs ?? 5000);
    try {
      recoverLocked(real, lock, faults);
      faults.hit('after-lock');
    } catch (e) {
      lock.release(e instanceof FaultHalt);
      throw e;
    }
    return new StateTransaction(real, lock, faults, opts.dirMode ?? 0o700);
  }

  /** Finishes or undoes a commit a crash interrupted; see recoverTransactions. */
  static recover(root: string, opts: RecoverOptions = {}): RecoveryReport {
    return recoverTransactions(root, opts);
  }

  /** The file's content as this transaction would leave it; undefined if absent. */
  read(rel: string): Buffer | undefined {
    this.assertOpen();
    return this.view.read(rel);
  }

  /** Whether a file is at `rel` as this transaction would leave it. */
  exists(rel: string): boolean {
    this.assertOpen();
    return this.view.kind(rel) === 'file';
  }

  /** Creates or replaces the file at `rel`, creating missing parent directories. */
  write(rel: string, data: Uint8Array | string, opts: WriteOptions = {}): this {
    this.assertOpen();
    const mode = opts.mode ?? 0o600;
    assert(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777, `file mode ${mode} is 0..0o7777`);
    this.view.write(rel, Buffer.from(data), mode); // a copy: the caller may reuse its buffer
    return this;
  }

  /**
   * Like write(), with the content of `source`: a file the caller wrote and fsynced (and may not touch
   * again), on the root's filesystem. It is linked into the transaction, never read into memory, so
   * large files (a restored snapshot) cost no more memory or fsyncs than small ones.
   */
  writeFrom(rel: string, source: string, opts: WriteOptions = {}): this {
    this.assertOpen();
    const mode = opts.mode ?? 0o600;
    assert(Number.isInteger(mode) && mode >= 0 && mode <= 0o7777, `file mode ${mode} is 0..0o7777`);
    if (!statSync(source).isFile()) throw new UsageError(`${source} is not a regular file`);
    this.view.writeFile(rel, source, mode);
    return this;
  }

  /** Deletes the file at `rel`; nothing if there is none. Directories are never deleted. */
  delete(rel: string): this {
    this.assertOpen();
    this.view.delete(rel);
    return this;
  }

  /** Moves the file at `from` to `to`, replacing a file there (NotFoundError if `from` is absent). */
  rename(from: string, to: string): this {
    this.assertOpen();
    this.view.rename(from, to);
    return this;
  }

  /** Drops the staged changes and releases the lock. */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.lock.release();
  }

  /**
   * Applies everything or nothing, then releases the lock. On failure throws InternalError saying
   * whether the tree was rolled back (the usual case) or will be finished by the next recovery.
   */
  commit(): CommitResult {
    this.assertOpen();
    this.state = 'committed';
    let halted = false;
    try {
      return this.commitLocked();
    } catch (e) {
      halted = e instanceof FaultHalt;
      throw e;
    } finally {
      this.lock.release(halted);
    }
  }

  private commitLocked(): CommitResult {
    const txid = newTxid();
    const txdir = join(this.swarmDir, txid);
    let journal: Journal;
    let changed: string[];
    try {
      const plan = this.view.plan();
      changed = plan.entries.map((e) => e.path);
      if (plan.entries.length === 0) return {txid: undefined, changed};
      journal = this.prepare(plan, txid, txdir);
    } catch (e) {
      if (e instanceof FaultHalt) throw e;
      try {
        discardTxnDir(txdir);
      } catch {
        // not committed, so harmless: the next begin() or recovery discards it
      }
      if (e instanceof SwarmError) throw e;
      throw new InternalError(`state transaction in ${this.root} failed before committing (${describe(e)}); nothing changed`, {cause: e});
    }
    try {
      redo(this.root, txdir, journal, () => this.hit('mid-apply'));
      this.hit('after-apply');
    } catch (e) {
      if (e instanceof FaultHalt) throw e;
      this.rollback(txdir, journal, e);
    }
    try {
      removeTxnDir(txdir, JOURNAL_COMMITTED, () => this.hit('after-journal-removed'));
      this.hit('before-unlock');
    } catch (e) {
      // The tree is final and durable: the commit succeeded. Whatever is left (even the journal,
      // which would be replayed harmlessly) goes now or with the next begin() or recovery.
      if (e instanceof FaultHalt) throw e;
      try {
        discardTxnDir(txdir);
      } catch {
        // left for the next recovery
      }
    }
    return {txid, changed};
  }

  /**
   * Stages every new content and a backup of every old one in the txn dir, then writes the journal
   * and marks it committed. Until the mark, the tree is untouched.
   */
  private prepare(plan: Plan, txid: string, txdir: string): Journal {
    mkdirSync(txdir, {mode: 0o700});
    // The journal must be findable after a power loss: its directory entries are made durable too.
    fsyncDir(this.swarmDir);
    fsyncDir(this.root);
    const entries: JournalEntry[] = plan.entries.map((p, i) => {
      let after: string | null = null;
      if (p.final.kind === 'data') writeStaged(join(txdir, `new-${i}`), p.final.data, p.final.mode);
      else if (p.final.kind === 'file') stageFile(p.final.source, join(txdir, `new-${i}`), p.final.mode);
      else if (p.final.kind === 'move') keepFile(join(this.root, p.final.from), join(txdir, `new-${i}`));
      if (p.final.kind !== 'absent') {
        after = `new-${i}`;
        this.hit('mid-stage');
      }
      if (p.existed) keepFile(join(this.root, p.path), join(txdir, `old-${i}`));
      return {path: p.path, after, before: p.existed ? `old-${i}` : null};
    });
    fsyncDir(txdir);
    this.hit('after-stage');
    const journal: Journal = {version: 1, txid, dirMode: this.dirMode, dirs: plan.dirs, entries};
    writeJournalFile(join(txdir, JOURNAL_PENDING), journal, () => this.hit('mid-journal'));
    this.hit('after-journal');
    renameSync(join(txdir, JOURNAL_PENDING), join(txdir, JOURNAL_COMMITTED));
    fsyncDir(txdir);
    this.hit('after-commit-mark');
    return journal;
  }

  /**
   * An error while applying: the journal is re-marked for rollback (so a crash from here on is
   * rolled back by recovery, not forward), the changes undone, and the error reported.
   */
  private rollback(txdir: string, journal: Journal, cause: unknown): never {
    let marked = false;
    try {
      renameSync(join(txdir, JOURNAL_COMMITTED), join(txdir, JOURNAL_ROLLBACK));
      fsyncDir(txdir);
      marked = true;
      this.hit('after-rollback-mark');
      undo(this.root, txdir, journal, () => this.hit('mid-rollback'));
      removeTxnDir(txdir, JOURNAL_ROLLBACK, () => undefined);
    } catch (e) {
      if (e instanceof FaultHalt) throw e;
      const next = marked ? 'rolls it back' : 'completes it';
      throw new InternalError(
        `state transaction in ${this.root} failed while applying (${describe(cause)}) and could not roll back (${describe(e)}); ` +
          `the next transaction or recovery on it ${next}`,
        {cause},
      );
    }
    throw new InternalError(`state transaction in ${this.root} failed while applying (${describe(cause)}); rolled back, nothing changed`, {cause});
  }

  private hit(step: TxnFaultStep): void {
    this.faults.hit(step);
  }

  private assertOpen(): void {
    assert(this.state === 'open', `state transaction on ${this.root} used after it was ${this.state}`);
  }
}

/** Runs `fn` in a transaction and commits it; aborts (nothing changes) if `fn` throws. `fn` must be synchronous. */
export function runTransaction<T>(root: string, fn: (tx: StateTransaction) => T, opts: TxnOptions = {}): T {
  const tx = StateTransaction.begin(root, opts);
  let result: T;
  try {
    result = fn(tx);
    assert(!(result instanceof Promise), 'runTransaction callbacks are synchronous (the lock is held only while it runs)');
  } catch (e) {
    tx.abort();
    throw e;
  }
  tx.commit();
  return result;
}
