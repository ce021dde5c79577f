import {UsageError} from '../errors.js';

/**
 * Fault points: every step of a commit, its rollback and recovery where a crash or an I/O error
 * could strike. `SWARM_FAULT` (comma-separated) names where to fail, so tests can `kill -9` a real
 * process at each step and check that recovery leaves the tree wholly before or wholly after:
 *
 *   txn:<step>[:<n>]        die at once (SIGKILL to itself) the n-th time <step> is reached (default 1st)
 *   txn-error:<step>[:<n>]  throw an injected I/O error there instead (tests rollback)
 *   txn-halt:<step>[:<n>]   throw FaultHalt, which every handler lets through untouched: an in-process
 *                           stand-in for a crash, leaving the files exactly as a kill would
 *
 * Items with other prefixes belong to other subsystems and are ignored here.
 */
export const TXN_FAULT_STEPS = [
  // commit: before the commit mark a crash leaves the tree as it was
  {step: 'after-lock', phase: 'commit', repeats: false}, // lock held and earlier commits recovered; nothing staged
  {step: 'mid-stage', phase: 'commit', repeats: true}, // after each staged file (new content, moved original)
  {step: 'after-stage', phase: 'commit', repeats: false}, // staged files and backups in the txn dir, fsynced
  {step: 'mid-journal', phase: 'commit', repeats: false}, // half of journal.pending written (a torn journal)
  {step: 'after-journal', phase: 'commit', repeats: false}, // journal.pending complete and fsynced, not yet marked
  // commit: from the mark on, a crash is rolled forward
  {step: 'after-commit-mark', phase: 'commit', repeats: false}, // journal.pending renamed to journal; nothing applied
  {step: 'mid-apply', phase: 'commit', repeats: true}, // after each applied step (delete, mkdir, rename into place)
  {step: 'after-apply', phase: 'commit', repeats: false}, // all applied, directories fsynced, journal still there
  {step: 'after-journal-removed', phase: 'commit', repeats: false}, // commit record gone, txn dir leftovers remain
  {step: 'before-unlock', phase: 'commit', repeats: false}, // txn dir gone, lock file still there
  // rollback after an error while applying: the journal is re-marked, so recovery undoes rather than redoes
  {step: 'after-rollback-mark', phase: 'rollback', repeats: false}, // journal renamed to journal.rollback
  {step: 'mid-rollback', phase: 'rollback', repeats: true}, // after each undone step
  // recovery of an interrupted commit (or rollback)
  {step: 'recover-mid-redo', phase: 'recover', repeats: true}, // after each re-applied step
  {step: 'recover-mid-undo', phase: 'recover', repeats: true}, // after each undone step
  {step: 'recover-before-cleanup', phase: 'recover', repeats: false}, // tree finished, journal still there
] as const;

export type TxnFaultStep = (typeof TXN_FAULT_STEPS)[number]['step'];
type FaultAction = 'kill' | 'error' | 'halt';

const ACTIONS: Record<string, FaultAction> = {txn: 'kill', 'txn-error': 'error', 'txn-halt': 'halt'};
const STEPS = new Set<string>(TXN_FAULT_STEPS.map((s) => s.step));

/** The error a `txn-error:` fault throws; it looks like a failed system call (code EINJECTED). */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
  readonly code = 'EINJECTED';
}

/** What a `txn-halt:` fault throws. Transaction code rethrows it without any cleanup or rollback. */
export class FaultHalt extends Error {
  override readonly name = 'FaultHalt';
}

interface Armed {
  step: TxnFaultStep;
  nth: number;
  action: FaultAction;
}

/** The faults armed for one commit or recovery; counts how often each step was reached. */
export class FaultPlan {
  private readonly hits = new Map<string, number>();

  private constructor(private readonly armed: readonly Armed[]) {}

  /** Parses a SWARM_FAULT value; an unknown txn step is a UsageError so a typo never passes silently. */
  static parse(spec: string | undefined): FaultPlan {
    const armed: Armed[] = [];
    for (const item of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      const [prefix = '', step = '', nthText, ...rest] = item.split(':');
      const action = ACTIONS[prefix];
      if (action === undefined) continue;
      const nth = nthText === undefined ? 1 : Number(nthText);
      if (!STEPS.has(step) || rest.length > 0 || !Number.isInteger(nth) || nth < 1) {
        throw new UsageError(`SWARM_FAULT: ${item} is not <txn|txn-error|txn-halt>:<step>[:<n>] with a known step`);
      }
      armed.push({step: step as TxnFaultStep, nth, action});
    }
    return new FaultPlan(armed);
  }

  static none(): FaultPlan {
    return new FaultPlan([]);
  }

  /** Marks that `step` was reached; fails there if a fault is armed for this occurrence. */
  hit(step: TxnFaultStep): void {
    if (this.armed.length === 0) return;
    const n = (this.hits.get(step) ?? 0) + 1;
    this.hits.set(step, n);
    const f = this.armed.find((a) => a.step === step && a.nth === n);
    if (f === undefined) return;
    const where = `${step}:${n}`;
    if (f.action === 'error') throw new InjectedFault(`injected I/O error at ${where}`);
    if (f.action === 'halt') throw new FaultHalt(`halted at ${where}`);
    process.kill(process.pid, 'SIGKILL');
    // SIGKILL to oneself is not caught; should delivery lag, nothing more may run.
    for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}
