import {existsSync, lstatSync, readdirSync} from 'node:fs';
import {join} from 'node:path';

import {errCode} from '../consensus/raft/wal/fs-util.js';
import {redo, discardTxnDir, removeTxnDir, undo} from './apply.js';
import {FaultHalt, FaultPlan} from './fault.js';
import {JOURNAL_COMMITTED, JOURNAL_ROLLBACK, readJournalFile} from './journal.js';
import {RootLock} from './lock.js';
import {resolveRoot, TXN_DIR} from './paths.js';

export interface RecoveryReport {
  /** Committed when the crash struck: finished (the tree is the after state). */
  rolledForward: string[];
  /** Failed while applying, rollback interrupted: finished (the tree is the before state). */
  rolledBack: string[];
  /** Never committed (the tree was not touched): leftovers removed. */
  discarded: string[];
}

export interface RecoverOptions {
  /** How long to wait for another process's lock, ms. Default 5000. */
  lockTimeoutMs?: number;
  /** Fault spec like SWARM_FAULT (the default). */
  faults?: string;
}

export const TXID_PATTERN = /^tx-[0-9a-z]+-[0-9a-f]+$/;

/**
 * Finishes or undoes whatever a crash interrupted under `root`, taking the root's lock (a lock left
 * by a dead process is broken). Safe to run any time and any number of times; every
 * StateTransaction.begin() runs it first, so a node need not call it, but may at start to log the report.
 */
export function recoverTransactions(root: string, opts: RecoverOptions = {}): RecoveryReport {
  const real = resolveRoot(root);
  const faults = FaultPlan.parse(opts.faults ?? process.env.SWARM_FAULT);
  const swarmDir = join(real, TXN_DIR);
  if (!existsSync(swarmDir)) return {rolledForward: [], rolledBack: [], discarded: []};
  const lock = RootLock.acquire(swarmDir, opts.lockTimeoutMs ?? 5000);
  let halted = false;
  try {
    return recoverLocked(real, lock, faults);
  } catch (e) {
    halted = e instanceof FaultHalt;
    throw e;
  } finally {
    lock.release(halted);
  }
}

/** Recovery proper; the caller holds the lock. Transactions are handled oldest first (there is normally at most one). */
export function recoverLocked(root: string, lock: RootLock, faults: FaultPlan): RecoveryReport {
  const report: RecoveryReport = {rolledForward: [], rolledBack: [], discarded: []};
  lock.sweepTemps();
  const swarmDir = join(root, TXN_DIR);
  const txids = readdirSync(swarmDir).filter((n) => TXID_PATTERN.test(n)).sort();
  for (const txid of txids) {
    const txdir = join(swarmDir, txid);
    if (!lstatSync(txdir).isDirectory()) continue;
    const mark = [JOURNAL_ROLLBACK, JOURNAL_COMMITTED].find((m) => present(join(txdir, m)));
    if (mark === undefined) {
      discardTxnDir(txdir);
      report.discarded.push(txid);
      continue;
    }
    const journal = readJournalFile(join(txdir, mark));
    if (mark === JOURNAL_ROLLBACK) {
      undo(root, txdir, journal, () => faults.hit('recover-mid-undo'));
      report.rolledBack.push(txid);
    } else {
      redo(root, txdir, journal, () => faults.hit('recover-mid-redo'));
      report.rolledForward.push(txid);
    }
    faults.hit('recover-before-cleanup');
    removeTxnDir(txdir, mark, () => undefined);
  }
  return report;
}

function present(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (e) {
    if (errCode(e) === 'ENOENT') return false;
    throw e;
  }
}
