/**
 * kill -9 at every step of a StateTransaction, for real: a child process (dist/test/helpers/txn-child.js,
 * built by `npx tsc -p .` / `npm test`) runs a transaction that creates, overwrites, deletes and
 * renames files in nested directories, and SIGKILLs itself at the step SWARM_FAULT names. Recovery
 * then runs here. The tree (every path, type, mode and content hash) must be byte-identical to the
 * before snapshot for a crash before the commit mark and to the after snapshot from the mark on,
 * with no trace of the journal. Recovery is killed at its own steps too, and concurrent writers
 * must never interleave.
 */
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {recoverTransactions, TXN_DIR, TXN_FAULT_STEPS} from '../../src/core/storage/index.js';
import type {TxnFaultStep} from '../../src/core/storage/index.js';
import {CRASH_OUTCOME, SCENARIO_APPLY_STEPS, seedTree, snapshot, which} from '../unit/storage/fixture.js';
import type {Tree} from '../unit/storage/fixture.js';

const CHILD = path.resolve(process.cwd(), 'dist/test/helpers/txn-child.js');


interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runChild(args: string[], fault = ''): Promise<ChildResult> {
  const env = {...process.env, SWARM_FAULT: fault};
  const proc = spawn(process.execPath, [CHILD, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']});
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('close', (code, signal) => resolve({code, signal, stdout, stderr})));
}

let base: string;
let before: Tree;
let after: Tree;
let seq = 0;

function freshRoot(): string {
  const r = path.join(base, `r${seq++}`);
  fs.mkdirSync(r);
  seedTree(r);
  return r;
}

beforeAll(async () => {
  if (!fs.existsSync(CHILD)) throw new Error(`${CHILD} is missing: run npx tsc -p . first`);
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-crash-'));
  const b = freshRoot();
  before = snapshot(b);
  const a = freshRoot();
  const r = await runChild(['commit', a]);
  expect(r.code).toBe(0);
  after = snapshot(a);
  expect(after).not.toEqual(before);
});
afterAll(() => fs.rmSync(base, {recursive: true, force: true}));

/** Recovers in this process and says which snapshot the tree is; the journal area must be gone. */
function recoverAndClassify(root: string): 'before' | 'after' | 'neither' {
  recoverTransactions(root, {faults: '', lockTimeoutMs: 2000});
  expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false);
  return which(snapshot(root), before, after);
}

/** Runs `fn` over `items`, at most `limit` at a time (children are slow to start; the checks are independent). */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({length: limit}, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

const PARALLEL = 4;

/** How often each repeating step is reached by the fixture's scenario. */
function occurrences(step: TxnFaultStep): number {
  if (step === 'mid-stage') return 8;
  if (step === 'mid-apply' || step === 'mid-rollback' || step === 'recover-mid-redo' || step === 'recover-mid-undo') return SCENARIO_APPLY_STEPS;
  return 1;
}

/**
 * Kills a commit at each occurrence n of `step` (with `prefix` faults armed before it) and checks
 * the recovered tree; at occurrence count+1 the step is never reached and the child must finish.
 */
async function killAtEveryOccurrence(step: TxnFaultStep, want: 'before' | 'after', prefix = ''): Promise<void> {
  const count = occurrences(step);
  const ns = Array.from({length: count + (count > 1 ? 1 : 0)}, (_, i) => i + 1);
  await pool(ns, PARALLEL, async (n) => {
    const root = freshRoot();
    const r = await runChild(['commit', root], `${prefix}txn:${step}:${n}`);
    if (n > count) {
      // never reached: the child ran to its end (a commit, or with an injected error a rollback)
      expect([r.signal, r.stderr]).toEqual([null, '']);
      if (prefix === '') {
        expect(r.code).toBe(0);
        expect(recoverAndClassify(root)).toBe('after');
      } else {
        expect(r.stdout).toMatch(/rolled back, nothing changed/);
        expect(recoverAndClassify(root)).toBe('before');
      }
      return;
    }
    expect([`${step}:${n}`, r.signal]).toEqual([`${step}:${n}`, 'SIGKILL']);
    expect([`${step}:${n}`, recoverAndClassify(root)]).toEqual([`${step}:${n}`, want]);
  });
}

describe('kill -9 at every commit step', () => {
  test.each(TXN_FAULT_STEPS.filter((s) => s.phase === 'commit'))('$step', async ({step}) => {
    await killAtEveryOccurrence(step, CRASH_OUTCOME[step] as 'before' | 'after');
  }, 120_000);
});

describe('kill -9 during the rollback of an apply that failed (I/O error injected at mid-apply:6)', () => {
  test.each(TXN_FAULT_STEPS.filter((s) => s.phase === 'rollback'))('$step', async ({step}) => {
    await killAtEveryOccurrence(step, CRASH_OUTCOME[step] as 'before' | 'after', 'txn-error:mid-apply:6,');
  }, 120_000);
});

describe('kill -9 during recovery, then recovery again', () => {
  // Every occurrence of the recovery steps is crashed in process by test/unit/storage/recovery.test.ts;
  // here real kills at the first, a middle and the last one, and before cleanup.
  const cases: Array<[string, string, TxnFaultStep, 'before' | 'after']> = [
    ['a commit killed mid-apply', 'txn:mid-apply:7', 'recover-mid-redo', 'after'],
    ['a rollback killed midway', 'txn-error:mid-apply:11,txn:mid-rollback:4', 'recover-mid-undo', 'before'],
  ];
  test.each(cases)('%s', async (_what, commitFault, midStep, want) => {
    const points = [1, 8, SCENARIO_APPLY_STEPS].map((n) => `${midStep}:${n}`).concat('recover-before-cleanup:1');
    await pool(points, PARALLEL, async (point) => {
      const root = freshRoot();
      expect((await runChild(['commit', root], commitFault)).signal).toBe('SIGKILL');
      const r = await runChild(['recover', root], `txn:${point}`);
      expect([point, r.signal]).toEqual([point, 'SIGKILL']);
      expect([point, recoverAndClassify(root)]).toEqual([point, want]);
    });
  }, 120_000);
});

test('concurrent writers never interleave: every read-modify-write counts', async () => {
  const root = fs.mkdtempSync(path.join(base, 'conc-'));
  const per = 40;
  const results = await Promise.all([1, 2, 3].map(() => runChild(['increment', root, String(per)])));
  for (const r of results) expect([r.code, r.stdout, r.stderr]).toEqual([0, `{"ok":true,"n":${per}}\n`, '']);
  expect(fs.readFileSync(path.join(root, 'counter'), 'utf8')).toBe(String(3 * per));
  const lines = fs.readFileSync(path.join(root, 'history'), 'utf8').trim().split('\n');
  expect(lines.map((l) => Number(l.split(':')[2]))).toEqual(Array.from({length: 3 * per}, (_, i) => i + 1));
  expect(fs.readdirSync(root).sort()).toEqual(['counter', 'history']);
}, 120_000);
