/**
 * Every fault point, in process: `txn-halt:` stops a commit dead (files exactly as a kill -9 would
 * leave them, see fault.ts) and `txn-error:` injects an I/O error. After recovery the tree must be
 * byte-identical to the before or the after snapshot, the right one for the step, with no trace of
 * the transaction machinery; recovery itself is crashed at each of its steps and must converge.
 * (test/integration/storage-crash.test.ts does the same with real processes and SIGKILL.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {InternalError} from '../../../src/core/errors.js';
import {FaultHalt, InjectedFault, recoverTransactions, StateTransaction, TXN_DIR, TXN_FAULT_STEPS} from '../../../src/core/storage/index.js';
import {scenario, SCENARIO_APPLY_STEPS, seedTree, snapshot, which} from './fixture.js';
import type {Tree} from './fixture.js';
import {CRASH_OUTCOME} from './fixture.js';


let base: string;
let before: Tree;
let after: Tree;
const roots: string[] = [];

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-rec-'));
  const b = path.join(base, 'ref-before');
  const a = path.join(base, 'ref-after');
  fs.mkdirSync(b);
  fs.mkdirSync(a);
  seedTree(b);
  seedTree(a);
  before = snapshot(b);
  const tx = StateTransaction.begin(a);
  scenario(tx);
  tx.commit();
  after = snapshot(a);
});
afterAll(() => fs.rmSync(base, {recursive: true, force: true}));

function freshRoot(): string {
  const r = path.join(base, `r${roots.length}`);
  roots.push(r);
  fs.mkdirSync(r);
  seedTree(r);
  return r;
}

/** Runs the scenario with `faults`; what it threw, or undefined when it committed. */
function runScenario(root: string, faults: string): unknown {
  try {
    const tx = StateTransaction.begin(root, {faults});
    scenario(tx);
    tx.commit();
    return undefined;
  } catch (e) {
    return e;
  }
}

function recoverClean(root: string, faults = ''): ReturnType<typeof recoverTransactions> {
  const report = recoverTransactions(root, {faults});
  expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false);
  return report;
}

function expectState(root: string, want: 'before' | 'after'): void {
  expect(which(snapshot(root), before, after)).toBe(want);
}

/** `fn(n)` for n = 1, 2, ... while it says the fault fired (once for a step that does not repeat); how many fired. */
function eachOccurrence(repeats: boolean, fn: (n: number) => boolean): number {
  let fired = 0;
  for (let n = 1; ; n++) {
    if (!fn(n)) break;
    fired++;
    if (!repeats) break;
  }
  return fired;
}

test('the outcome table covers every fault step', () => {
  expect(Object.keys(CRASH_OUTCOME).sort()).toEqual(TXN_FAULT_STEPS.map((s) => s.step).sort());
});

describe.each(TXN_FAULT_STEPS.filter((s) => s.phase === 'commit'))('a crash at $step', ({step, repeats}) => {
  test(`recovers to the ${CRASH_OUTCOME[step]} state, idempotently`, () => {
    const fired = eachOccurrence(repeats, (n) => {
      const root = freshRoot();
      const err = runScenario(root, `txn-halt:${step}:${n}`);
      if (err === undefined) {
        expectState(root, 'after');
        return false;
      }
      expect(err).toBeInstanceOf(FaultHalt);
      recoverClean(root);
      expectState(root, CRASH_OUTCOME[step] as 'before' | 'after');
      expect(recoverClean(root)).toEqual({rolledForward: [], rolledBack: [], discarded: []});
      return true;
    });
    if (step === 'mid-stage') expect(fired).toBe(8);
    else if (step === 'mid-apply') expect(fired).toBe(SCENARIO_APPLY_STEPS);
    else expect(fired).toBe(1);
  });
});

describe('an I/O error at each commit step', () => {
  test.each(TXN_FAULT_STEPS.filter((s) => s.phase === 'commit'))('$step: the commit fails and rolls back, or (after the journal is gone) succeeds', ({step, repeats}) => {
    eachOccurrence(repeats, (n) => {
      const root = freshRoot();
      const err = runScenario(root, `txn-error:${step}:${n}`);
      const lateStep = step === 'after-journal-removed' || step === 'before-unlock';
      if (err === undefined) {
        // Past the journal's removal the commit stands.
        expect(lateStep || n > 1).toBe(true);
        expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false);
        expectState(root, 'after');
        return false;
      }
      if (step === 'after-lock') expect(err).toBeInstanceOf(InjectedFault);
      else if (step === 'mid-apply' || step === 'after-apply') expect((err as Error).message).toMatch(/failed while applying \(injected .*\); rolled back, nothing changed/);
      else expect((err as Error).message).toMatch(/failed before committing \(injected .*\); nothing changed/);
      if (step !== 'after-lock') expect(err).toBeInstanceOf(InternalError);
      expectState(root, 'before');
      expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false); // rolled back in process, lock released
      return true;
    });
  });
});

describe('a crash during the rollback of a failed apply', () => {
  test.each([1, 7, SCENARIO_APPLY_STEPS])('error at mid-apply:%i, then a crash at every rollback step: recovery finishes the rollback', (k) => {
    for (const step of ['after-rollback-mark', 'mid-rollback'] as const) {
      let n = 1;
      for (; ; n++) {
        const root = freshRoot();
        const err = runScenario(root, `txn-error:mid-apply:${k},txn-halt:${step}:${n}`);
        if (!(err instanceof FaultHalt)) {
          expect((err as Error).message).toMatch(/rolled back, nothing changed/);
          expectState(root, 'before');
          break;
        }
        const report = recoverClean(root);
        expect(report.rolledBack).toHaveLength(1);
        expectState(root, 'before');
      }
      if (step === 'mid-rollback') expect(n - 1).toBe(SCENARIO_APPLY_STEPS); // as many undo steps as apply steps
    }
  });

  test('a rollback that fails too says so; the next recovery finishes it', () => {
    const root = freshRoot();
    const err = runScenario(root, 'txn-error:mid-apply:9,txn-error:mid-rollback:4');
    expect(err).toBeInstanceOf(InternalError);
    expect((err as Error).message).toMatch(/could not roll back .*the next transaction or recovery on it rolls it back/);
    expect(which(snapshot(root), before, after)).toBe('neither');
    expect(recoverClean(root).rolledBack).toHaveLength(1);
    expectState(root, 'before');
  });

  test('a transaction begun after such a failure recovers first, then applies', () => {
    const root = freshRoot();
    runScenario(root, 'txn-error:mid-apply:2,txn-error:mid-rollback:1');
    const tx = StateTransaction.begin(root);
    scenario(tx);
    tx.commit();
    expectState(root, 'after');
  });
});

describe('a crash during recovery', () => {
  const interrupted: Array<[string, string, 'before' | 'after', 'recover-mid-redo' | 'recover-mid-undo']> = [
    ['committed, nothing applied', 'txn-halt:after-commit-mark', 'after', 'recover-mid-redo'],
    ['committed, half applied', 'txn-halt:mid-apply:8', 'after', 'recover-mid-redo'],
    ['committed, all applied', 'txn-halt:after-apply', 'after', 'recover-mid-redo'],
    ['rolling back, half undone', 'txn-error:mid-apply:12,txn-halt:mid-rollback:5', 'before', 'recover-mid-undo'],
  ];
  test.each(interrupted)('%s: recovery crashed at each of its steps, then run again, converges', (_what, commitFaults, want, midStep) => {
    for (const step of [midStep, 'recover-before-cleanup'] as const) {
      for (let n = 1; ; n++) {
        const root = freshRoot();
        expect(runScenario(root, commitFaults)).toBeInstanceOf(FaultHalt);
        let halted = false;
        try {
          recoverTransactions(root, {faults: `txn-halt:${step}:${n}`});
        } catch (e) {
          expect(e).toBeInstanceOf(FaultHalt);
          halted = true;
        }
        // and a second crash in the second recovery, at its first step, for good measure
        if (halted) {
          try {
            recoverTransactions(root, {faults: `txn-halt:${midStep}:1`});
          } catch (e) {
            expect(e).toBeInstanceOf(FaultHalt);
          }
          recoverClean(root);
        }
        expectState(root, want);
        expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false);
        if (!halted || step === 'recover-before-cleanup') break;
      }
    }
  });

  test('an I/O error during recovery leaves the journal for the next try', () => {
    const root = freshRoot();
    runScenario(root, 'txn-halt:mid-apply:3');
    expect(() => recoverTransactions(root, {faults: 'txn-error:recover-mid-redo:6'})).toThrow(InjectedFault);
    expect(recoverClean(root).rolledForward).toHaveLength(1);
    expectState(root, 'after');
  });
});

describe('journals', () => {
  function txdirOf(root: string): string {
    const names = fs.readdirSync(path.join(root, TXN_DIR)).filter((n) => n.startsWith('tx-'));
    expect(names).toHaveLength(1);
    return path.join(root, TXN_DIR, names[0]!);
  }

  test('a torn journal.pending is discarded (the commit never happened)', () => {
    const root = freshRoot();
    runScenario(root, 'txn-halt:mid-journal');
    expect(fs.readdirSync(txdirOf(root))).toContain('journal.pending');
    expect(recoverClean(root).discarded).toHaveLength(1);
    expectState(root, 'before');
  });

  test('a damaged committed journal is refused loudly, never half-trusted', () => {
    const root = freshRoot();
    runScenario(root, 'txn-halt:mid-apply:4');
    const j = path.join(txdirOf(root), 'journal');
    const buf = fs.readFileSync(j);
    buf[buf.length - 10]! ^= 0x01;
    fs.writeFileSync(j, buf);
    expect(() => recoverTransactions(root)).toThrow(/journal .* is corrupt \(checksum mismatch\)/);
    expect(() => StateTransaction.begin(root)).toThrow(InternalError); // nothing proceeds over it
  });

  test('a forged journal (valid checksum) naming a path outside the root is refused', async () => {
    const root = freshRoot();
    runScenario(root, 'txn-halt:after-commit-mark');
    const j = path.join(txdirOf(root), 'journal');
    const text = fs.readFileSync(j, 'utf8');
    const body = JSON.parse(text.slice(text.indexOf('\n') + 1)) as {entries: Array<{path: string}>};
    body.entries[0]!.path = '../../escaped';
    const {createHash} = await import('node:crypto');
    const json = JSON.stringify(body);
    fs.writeFileSync(j, `${createHash('sha256').update(json).digest('hex')}\n${json}`);
    expect(() => recoverTransactions(root)).toThrow(/corrupt .*must be a plain relative path/);
    expect(fs.existsSync(path.join(base, 'escaped'))).toBe(false);
  });

  test('SWARM_FAULT with an unknown txn step is a UsageError; other subsystems\' items are ignored', () => {
    const root = freshRoot();
    expect(() => StateTransaction.begin(root, {faults: 'txn:after-lunch'})).toThrow(/SWARM_FAULT/);
    expect(() => StateTransaction.begin(root, {faults: 'txn:mid-apply:0'})).toThrow(/SWARM_FAULT/);
    StateTransaction.begin(root, {faults: 'raft:after-append,other:x'}).abort();
  });
});
