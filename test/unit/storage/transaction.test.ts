/**
 * StateTransaction's API on a real filesystem: what each operation leaves, modes, the staged view,
 * refusals (typed), the lock within one process, and that a commit leaves no trace of its machinery.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {ConflictError, NotFoundError, UsageError} from '../../../src/core/errors.js';
import {atomicWriteFile, runTransaction, StateTransaction, TXN_DIR} from '../../../src/core/storage/index.js';
import {scenario, seedTree, snapshot} from './fixture.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-'));
});
afterEach(() => fs.rmSync(root, {recursive: true, force: true}));

const read = (rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');
const modeOf = (rel: string): number => fs.statSync(path.join(root, rel)).mode & 0o7777;
const put = (rel: string, data: string, mode = 0o644): void => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), {recursive: true});
  fs.writeFileSync(path.join(root, rel), data);
  fs.chmodSync(path.join(root, rel), mode);
};
const commit = (fn: (tx: StateTransaction) => void) => {
  const tx = StateTransaction.begin(root);
  fn(tx);
  return tx.commit();
};

test('writes create files with their mode and missing parent directories (0700); nothing of the machinery stays', () => {
  const res = commit((tx) => tx.write('a/b/c.json', '{"x":1}', {mode: 0o640}).write('top', Buffer.from([0, 1, 2])));
  expect(res.changed).toEqual(['a/b/c.json', 'top']);
  expect(res.txid).toMatch(/^tx-/);
  expect(read('a/b/c.json')).toBe('{"x":1}');
  expect(modeOf('a/b/c.json')).toBe(0o640);
  expect(modeOf('top')).toBe(0o600); // the default: state files often hold secrets
  expect(modeOf('a')).toBe(0o700);
  expect(modeOf('a/b')).toBe(0o700);
  expect(fs.existsSync(path.join(root, TXN_DIR))).toBe(false);
});

test('modes are exact whatever the umask; dirMode sets created directories', () => {
  const old = process.umask(0o077);
  try {
    const tx = StateTransaction.begin(root, {dirMode: 0o755});
    tx.write('d/pub', 'x', {mode: 0o644}).commit();
  } finally {
    process.umask(old);
  }
  expect(modeOf('d/pub')).toBe(0o644);
  expect(modeOf('d')).toBe(0o755);
});

test('an overwrite replaces content and mode; untouched files keep theirs', () => {
  put('f', 'old', 0o644);
  put('other', 'same', 0o640);
  commit((tx) => tx.write('f', 'new', {mode: 0o600}));
  expect(read('f')).toBe('new');
  expect(modeOf('f')).toBe(0o600);
  expect(modeOf('other')).toBe(0o640);
});

test('delete removes a file, is a no-op for a missing one, and refuses a directory', () => {
  put('d/x', 'x');
  const tx = StateTransaction.begin(root);
  tx.delete('d/x').delete('nope/never');
  expect(() => tx.delete('d')).toThrow(UsageError);
  expect(tx.commit().changed).toEqual(['d/x']);
  expect(fs.existsSync(path.join(root, 'd/x'))).toBe(false);
  expect(fs.statSync(path.join(root, 'd')).isDirectory()).toBe(true); // directories are never removed
});

test('rename moves a file (mode kept), replaces an existing target, and follows earlier operations', () => {
  put('a', 'A', 0o640);
  put('b', 'B');
  put('c', 'C');
  commit((tx) => tx.rename('a', 'x/a').rename('b', 'c'));
  expect(read('x/a')).toBe('A');
  expect(modeOf('x/a')).toBe(0o640);
  expect(read('c')).toBe('B');
  expect(fs.existsSync(path.join(root, 'a'))).toBe(false);
  expect(fs.existsSync(path.join(root, 'b'))).toBe(false);
});

test('a swap through a temporary name swaps; a round trip changes nothing', () => {
  put('p', 'P');
  put('q', 'Q');
  commit((tx) => tx.rename('p', 'tmp').rename('q', 'p').rename('tmp', 'q'));
  expect([read('p'), read('q')]).toEqual(['Q', 'P']);
  expect(fs.existsSync(path.join(root, 'tmp'))).toBe(false);
  const res = commit((tx) => tx.rename('p', 'z').rename('z', 'p'));
  expect(res).toEqual({txid: undefined, changed: []});
});

test('the staged view: read and exists see this transaction; write then delete is no change', () => {
  put('a', 'disk');
  const tx = StateTransaction.begin(root);
  expect(tx.read('a')?.toString()).toBe('disk');
  tx.write('a', 'staged');
  expect(tx.read('a')?.toString()).toBe('staged');
  tx.rename('a', 'b');
  expect(tx.exists('a')).toBe(false);
  expect(tx.read('b')?.toString()).toBe('staged');
  expect(tx.read('none')).toBeUndefined();
  tx.write('tmp', 'x').delete('tmp');
  tx.rename('b', 'a');
  expect(tx.commit().changed).toEqual(['a']);
  expect(read('a')).toBe('staged');
});

test('the caller may reuse its buffer after write()', () => {
  const buf = Buffer.from('first');
  const tx = StateTransaction.begin(root);
  tx.write('f', buf);
  buf.write('XXXXX');
  tx.commit();
  expect(read('f')).toBe('first');
});

test('a file may become a directory when it is deleted first; not otherwise', () => {
  put('f', 'file');
  const tx = StateTransaction.begin(root);
  expect(() => tx.write('f/g', 'x')).toThrow(UsageError);
  tx.delete('f').write('f/g', 'x');
  expect(() => tx.write('f', 'again')).toThrow(UsageError); // now a directory in the view
  tx.commit();
  expect(read('f/g')).toBe('x');
});

test('the scenario fixture commits to the expected tree', () => {
  seedTree(root);
  commit(scenario);
  const t = snapshot(root);
  expect(Object.keys(t).filter((k) => t[k]!.type === 'file').sort()).toEqual(
    ['a.txt', 'a2.txt', 'big.dat', 'dir/sub/b.bin', 'f/g.txt', 'keep.txt', 'keep2.txt', 'new/deep/n.txt', 'y.txt'],
  );
  expect(read('keep2.txt')).toBe('epsilon\n');
  expect(read('a2.txt')).toBe('delta\n');
  expect(t['a.txt']!.mode).toBe(0o600);
});

describe('refusals', () => {
  test.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['../escape', 'parent'],
    ['a/../../escape', 'parent inside'],
    ['./a', 'dot'],
    ['a//b', 'empty segment'],
    ['a/', 'trailing slash'],
    [`${TXN_DIR}/lock`, 'the transaction area'],
    ['a\0b', 'NUL'],
  ])('path %j (%s) is a UsageError', (rel) => {
    const tx = StateTransaction.begin(root);
    try {
      expect(() => tx.write(rel, 'x')).toThrow(UsageError);
      expect(() => tx.delete(rel)).toThrow(UsageError);
      expect(() => tx.rename(rel, 'ok')).toThrow(UsageError);
      expect(() => tx.read(rel)).toThrow(UsageError);
    } finally {
      tx.abort();
    }
  });

  test('symlinks on the path or as the target are refused', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-out-'));
    try {
      fs.writeFileSync(path.join(outside, 'secret'), 's');
      fs.symlinkSync(outside, path.join(root, 'link'));
      fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'file-link'));
      const tx = StateTransaction.begin(root);
      expect(() => tx.write('link/x', 'x')).toThrow(UsageError);
      expect(() => tx.write('link/deeper/x', 'x')).toThrow(UsageError);
      expect(() => tx.delete('link/secret')).toThrow(UsageError);
      expect(() => tx.write('file-link', 'x')).toThrow(UsageError);
      expect(() => tx.delete('file-link')).toThrow(UsageError);
      expect(() => tx.rename('file-link', 'y')).toThrow(UsageError);
      expect(() => tx.read('link/secret')).toThrow(UsageError);
      tx.abort();
      expect(fs.readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('s');
    } finally {
      fs.rmSync(outside, {recursive: true, force: true});
    }
  });

  test('writing over a directory, renaming a missing file or a directory', () => {
    fs.mkdirSync(path.join(root, 'd'));
    const tx = StateTransaction.begin(root);
    expect(() => tx.write('d', 'x')).toThrow(UsageError);
    expect(() => tx.rename('missing', 'x')).toThrow(NotFoundError);
    expect(() => tx.rename('d', 'x')).toThrow(UsageError);
    expect(() => tx.read('d')).toThrow(UsageError);
    tx.abort();
  });

  test('a root that does not exist is NotFoundError; a file as root is UsageError', () => {
    expect(() => StateTransaction.begin(path.join(root, 'nope'))).toThrow(NotFoundError);
    put('file', 'x');
    expect(() => StateTransaction.begin(path.join(root, 'file'))).toThrow(UsageError);
  });

  test('a transaction cannot be used after commit or abort', () => {
    const tx = StateTransaction.begin(root);
    tx.commit();
    expect(() => tx.write('x', 'y')).toThrow(/used after it was committed/);
    expect(() => tx.commit()).toThrow(/used after/);
    const tx2 = StateTransaction.begin(root);
    tx2.abort();
    expect(() => tx2.read('x')).toThrow(/used after it was aborted/);
  });
});

test('abort changes nothing and releases the lock', () => {
  seedTree(root);
  const before = snapshot(root);
  const tx = StateTransaction.begin(root);
  scenario(tx);
  tx.abort();
  expect(snapshot(root)).toEqual(before);
  StateTransaction.begin(root).abort(); // not locked any more
});

test('one open transaction per root in a process: a second begin fails at once with ConflictError', () => {
  const tx = StateTransaction.begin(root);
  const t0 = Date.now();
  expect(() => StateTransaction.begin(root)).toThrow(ConflictError);
  expect(() => StateTransaction.begin(path.join(root, '.'))).toThrow(ConflictError); // same root, other spelling
  expect(Date.now() - t0).toBeLessThan(1000);
  tx.abort();
});

test('runTransaction commits what the callback stages and aborts when it throws', () => {
  put('counter', '1');
  const n = runTransaction(root, (tx) => {
    const v = Number(tx.read('counter')!.toString()) + 1;
    tx.write('counter', String(v));
    return v;
  });
  expect(n).toBe(2);
  expect(read('counter')).toBe('2');
  expect(() =>
    runTransaction(root, (tx) => {
      tx.write('counter', '99');
      throw new Error('changed my mind');
    }),
  ).toThrow('changed my mind');
  expect(read('counter')).toBe('2');
  StateTransaction.begin(root).abort(); // the lock was released
});

test('atomicWriteFile replaces a file with the exact mode and leaves no temp file', () => {
  put('conf', 'old', 0o644);
  atomicWriteFile(path.join(root, 'conf'), 'new', 0o600);
  atomicWriteFile(path.join(root, 'fresh'), Buffer.from('x'));
  expect(read('conf')).toBe('new');
  expect(modeOf('conf')).toBe(0o600);
  expect(modeOf('fresh')).toBe(0o600);
  expect(fs.readdirSync(root).sort()).toEqual(['conf', 'fresh']);
  expect(() => atomicWriteFile(path.join(root, 'no/such/dir'), 'x')).toThrow(/ENOENT/);
  expect(fs.readdirSync(root).sort()).toEqual(['conf', 'fresh']);
});

describe('writeFrom (content from a prepared file)', () => {
  test('the file is linked in, not read; modes apply; a missing source is refused at the call', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-txn-from-'));
    const src = path.join(root, '..', `${path.basename(root)}.src`);
    fs.writeFileSync(src, 'big content');
    StateTransaction.begin(root).writeFrom('a/b.bin', src, {mode: 0o640}).commit();
    expect(fs.readFileSync(path.join(root, 'a/b.bin'), 'utf8')).toBe('big content');
    expect(fs.statSync(path.join(root, 'a/b.bin')).mode & 0o777).toBe(0o640);
    const tx = StateTransaction.begin(root);
    expect(() => tx.writeFrom('c', path.join(root, 'nope'))).toThrow();
    tx.abort();
    fs.rmSync(root, {recursive: true, force: true});
    fs.rmSync(src, {force: true});
  });
});
