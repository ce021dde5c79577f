/**
 * The kv commands end to end against a one-node cluster: exit codes, CAS, --json, --watch.
 */
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {BIN, cleanup, cli, freePort, startNode, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';

const dir = tmpDir('kv');
let node: RunningNode;
const kv = (...args: string[]) => cli(['kv', ...args, '--data-dir', node.dataDir]);

beforeAll(async () => {
  node = startNode({name: 'solo', dataDir: path.join(dir, 'solo'), port: await freePort(), joinSecretFile: writeJoinSecret(dir), extra: ['--no-mdns', '--raft-bootstrap', 'self', '--raft-tick', '20ms']});
  await waitUp(node);
  await waitFor('leader', async () => {
    const r = await cli(['consensus', 'status', '--json', '--data-dir', node.dataDir]);
    return r.code === 0 && (r.json as {role: string}).role === 'leader';
  }, 10_000, 100);
}, 30_000);

afterAll(() => {
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

test('put, get, list, del with versions and exit codes', async () => {
  const put = await kv('put', 'app/mode', 'fast', '--json');
  expect(put.code).toBe(0);
  expect(put.json).toMatchObject({ok: true, version: 1});
  expect((await kv('get', 'app/mode')).stdout).toBe('fast');
  expect((await kv('put', 'app/mode', 'slow')).code).toBe(0);
  const got = await kv('get', 'app/mode', '--json');
  expect(got.json).toMatchObject({namespace: 'default', key: 'app/mode', value: 'slow', version: 2});
  expect((await kv('get', 'app/mode', '--serializable')).stdout).toBe('slow');
  await kv('put', 'app/size', '3');
  await kv('put', 'other', 'x');
  const list = await kv('list', '--prefix', 'app/', '--json');
  expect((list.json as {key: string}[]).map((r) => r.key)).toEqual(['app/mode', 'app/size']);
  // namespaces are separate
  expect((await kv('get', 'app/mode', '-n', 'prod')).code).toBe(3);
  expect((await kv('put', 'app/mode', 'p', '-n', 'prod')).code).toBe(0);
  expect((await kv('get', 'app/mode', '-n', 'prod')).stdout).toBe('p');
  // delete, then it is gone
  expect((await kv('del', 'app/size')).code).toBe(0);
  const missing = await kv('get', 'app/size');
  expect(missing.code).toBe(3);
  expect(missing.stderr).toMatch(/not found/);
  expect((await kv('del', 'app/size')).code).toBe(3);
}, 60_000);

test('compare-and-swap: --if-version refuses with exit 6 and changes nothing', async () => {
  expect((await kv('put', 'lock', 'me', '--if-version', '0')).code).toBe(0);
  const again = await kv('put', 'lock', 'you', '--if-version', '0');
  expect(again.code).toBe(6);
  expect(again.stderr).toMatch(/version 1/);
  expect((await kv('get', 'lock')).stdout).toBe('me');
  expect((await kv('put', 'lock', 'you', '--if-version', '1')).code).toBe(0);
  expect((await kv('del', 'lock', '--if-version', '1')).code).toBe(6);
  expect((await kv('del', 'lock', '--if-version', '2')).code).toBe(0);
}, 60_000);

test('bad input: an invalid namespace is a usage error', async () => {
  const r = await kv('put', 'k', 'v', '-n', 'Bad Namespace');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/namespace/);
});

test('list --watch, piped, prints one JSON line per change under the prefix', async () => {
  const w = spawn(process.execPath, [BIN, 'kv', 'list', '--watch', '--prefix', 'jobs/', '--data-dir', node.dataDir], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  w.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const events = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as {type: string; key: string; value?: string});
    // The watch is registered once the process is up; keep writing until one is seen.
    await waitFor('first event', async () => {
      await kv('put', 'jobs/1', 'queued');
      return events().length > 0;
    }, 15_000, 200);
    await kv('put', 'not-jobs', 'x');
    await kv('del', 'jobs/1');
    await waitFor('delete event', () => events().some((e) => e.type === 'del' && e.key === 'jobs/1'), 10_000);
    expect(events().every((e) => e.key.startsWith('jobs/'))).toBe(true);
    expect(events().find((e) => e.type === 'put')).toMatchObject({key: 'jobs/1', value: 'queued'});
  } finally {
    w.kill('SIGTERM');
  }
}, 60_000);
