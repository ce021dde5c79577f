/**
 * The root lock across processes: a lock whose owner is gone (dead, a zombie, a reused pid, another
 * boot, an unreadable record gone old) is broken; a live owner is waited for, then ConflictError.
 */
import {spawn, spawnSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {ConflictError} from '../../../src/core/errors.js';
import {StateTransaction, TXN_DIR} from '../../../src/core/storage/index.js';

const linux = fs.existsSync('/proc/self/stat');
let root: string;
const kids: ChildProcess[] = [];
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-lock-'));
});
afterEach(() => fs.rmSync(root, {recursive: true, force: true}));
afterAll(() => {
  for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
});

function startTime(pid: number): string {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19]!;
}
const bootId = (): string => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function plantLock(owner: object | string): string {
  fs.mkdirSync(path.join(root, TXN_DIR), {mode: 0o700});
  const file = path.join(root, TXN_DIR, 'lock');
  fs.writeFileSync(file, typeof owner === 'string' ? owner : JSON.stringify(owner));
  return file;
}

function sleeper(seconds: number): ChildProcess {
  const k = spawn('sleep', [String(seconds)], {stdio: 'ignore'});
  kids.push(k);
  return k;
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'});
  return Number(r.stdout);
}

function beginsWithin(ms: number, timeoutMs = 5000): void {
  const t0 = Date.now();
  const tx = StateTransaction.begin(root, {lockTimeoutMs: timeoutMs});
  tx.write('x', 'y').commit();
  expect(Date.now() - t0).toBeLessThan(ms);
  expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false);
}

test('a lock left by a dead process is broken at once', () => {
  plantLock({pid: deadPid()});
  beginsWithin(1000);
});

(linux ? test : test.skip)('a live owner is waited for, then ConflictError naming its pid', () => {
  const k = sleeper(30);
  plantLock({pid: k.pid, boot: bootId(), start: startTime(k.pid!)});
  const t0 = Date.now();
  expect(() => StateTransaction.begin(root, {lockTimeoutMs: 300})).toThrow(ConflictError);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  expect(() => StateTransaction.begin(root, {lockTimeoutMs: 0})).toThrow(new RegExp(`locked by pid ${k.pid}`));
  k.kill('SIGKILL');
});

(linux ? test : test.skip)('an owner that exits while we wait (a zombie, unreaped: our loop is blocked) lets us in', () => {
  const k = sleeper(0.3);
  plantLock({pid: k.pid, boot: bootId(), start: startTime(k.pid!)});
  const t0 = Date.now();
  beginsWithin(4000);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
});

(linux ? test : test.skip)('a pid reused by a younger process, or a lock from another boot, is stale', () => {
  const k = sleeper(30);
  plantLock({pid: k.pid, boot: bootId(), start: '1'});
  beginsWithin(1000);
  plantLock({pid: k.pid, boot: 'another-boot', start: startTime(k.pid!)});
  beginsWithin(1000);
  k.kill('SIGKILL');
});

test('an unreadable lock is waited for while fresh, broken once old', () => {
  const file = plantLock('');
  expect(() => StateTransaction.begin(root, {lockTimeoutMs: 100})).toThrow(/locked by another process/);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(file, old, old);
  beginsWithin(1000);
});

test('a lock naming this process, which holds none, is a leftover and broken', () => {
  plantLock({pid: process.pid});
  beginsWithin(1000);
});

test('temp files of crashed lock takers are swept', () => {
  const dead = deadPid();
  plantLock({pid: dead});
  fs.writeFileSync(path.join(root, TXN_DIR, `lock.${dead}.abcdef`), '{}');
  fs.writeFileSync(path.join(root, TXN_DIR, `lock.stale.${dead}.012345`), '{}');
  fs.writeFileSync(path.join(root, TXN_DIR, `wait.000000001.${dead}.0abc`), '');
  beginsWithin(1000);
});

(linux ? test : test.skip)('waiters go in turn: a live process queued first is let in before a newcomer', () => {
  const k = sleeper(30);
  fs.mkdirSync(path.join(root, TXN_DIR), {mode: 0o700});
  fs.writeFileSync(path.join(root, TXN_DIR, `wait.000000001.${k.pid}.0abc`), '');
  expect(() => StateTransaction.begin(root, {lockTimeoutMs: 200})).toThrow(/locked by processes queued before this one/);
  expect(fs.readdirSync(path.join(root, TXN_DIR))).toEqual([`wait.000000001.${k.pid}.0abc`]); // the newcomer left the queue
  k.kill('SIGKILL');
  spawnSync('sleep', ['0.1']); // let the kill land
  beginsWithin(1000); // a dead waiter's ticket is dropped
});

test('.swarm-txn as a symlink is refused', () => {
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-else-'));
  try {
    fs.symlinkSync(elsewhere, path.join(root, TXN_DIR));
    expect(() => StateTransaction.begin(root)).toThrow(/is not a directory/);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  } finally {
    fs.rmSync(elsewhere, {recursive: true, force: true});
  }
});
