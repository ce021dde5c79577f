/**
 * The vault on a running node, and the one redactor on every path a secret could leak through: a
 * task given the secret by vault reference prints it (plain, base64, hex, URL-encoded), an error
 * message quotes it, and afterwards it is found nowhere: not in task logs, error output, the node's
 * log, its audit log, its Raft WAL, or any file in its data dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type {Task} from '../../src/core/fleet/task.js';
import {ProcessRunner} from '../../src/core/sandbox/process-runner.js';
import {cleanup, cli, control, freePort, startNode, tmpDir, waitFor, waitUp} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';

const dir = tmpDir('vault-node');
const SECRET = `sk-node-${Date.now().toString(36)}-w4y7z2k9`;
const PASS = 'correct horse battery staple';
let node: RunningNode;

afterAll(() => {
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

function grepTree(root: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && fs.readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(root);
  return hits;
}

test('a node-held vault: locked by default, unlocked by passphrase, and a secret leaks through no path', async () => {
  const a = await new ProcessRunner().available();
  if (!a.ok) {
    if (process.env.CI) throw new Error(`process sandbox unavailable under CI: ${a.reason}`);
    console.warn(`process sandbox unavailable, skipping: ${a.reason}`);
    return;
  }
  node = startNode({name: 'v1', dataDir: path.join(dir, 'v1'), port: await freePort(), extra: ['--no-mdns', '--raft-bootstrap', 'self']});
  await waitUp(node);
  await waitFor('a leader', async () => (await control(node, 'consensus.status', {local: true})).role === 'leader', 15_000);

  const st = await control(node, 'vault.init', {passphrase: PASS}, 30_000);
  expect(st).toMatchObject({initialised: true, locked: false, where: expect.stringContaining('replicated')});
  await control(node, 'vault.set', {name: 'api', value: SECRET});
  await control(node, 'vault.lock', null);
  await expect(control(node, 'vault.get', {name: 'api'})).rejects.toMatchObject({exitCode: 5});
  await expect(control(node, 'vault.unlock', {passphrase: 'wrong wrong wrong'}, 30_000)).rejects.toMatchObject({exitCode: 5});
  // The operator's way in: the CLI reads the passphrase from a 0600 file, never argv.
  const pf = path.join(dir, 'pass');
  fs.writeFileSync(pf, PASS + '\n', {mode: 0o600});
  expect((await cli(['vault', 'unlock', '--data-dir', node.dataDir, '--passphrase-file', pf])).code).toBe(0);

  // A task gets the secret by reference, and prints it every way it can.
  const script = 'echo "plain=$K"; printf %s "$K" | base64; printf %s "$K" | od -An -tx1 | tr -d " \\n"; echo; echo "k=$K" >&2';
  const t = await control(node, 'task.submit', {spec: {command: ['sh', '-c', script], runner: 'process', timeoutMs: 30_000, env: {K: 'vault:api'}, requires: {cores: 0.1, memoryBytes: 1 << 26, gpus: 0, labels: {}}}});
  const done = await waitFor('the task to finish', async () => {
    const x: Task = await control(node, 'task.get', {id: t.id});
    return x.state === 'succeeded' || x.state === 'failed' ? x : undefined;
  }, 30_000);
  expect(done.state).toBe('succeeded');
  const out = await cli(['task', 'logs', t.id, '--data-dir', node.dataDir]);
  expect(out.stdout).toMatch(/^plain=\[REDACTED\]\n\[REDACTED\]\n\[REDACTED\]\n$/);
  expect(out.stderr).toBe('k=[REDACTED]\n');

  // An error message that quotes it (a key named like the secret), in both output modes.
  for (const json of [[], ['--json']]) {
    const e = await cli(['kv', 'get', SECRET, '--data-dir', node.dataDir, ...json]);
    expect(e.code).toBe(3);
    expect(e.stderr).toContain('[REDACTED]');
    expect(e.stderr + e.stdout).not.toContain(SECRET);
  }

  // And afterwards: nowhere on disk (WAL, audit log, task files) and not in the node's log.
  expect(grepTree(node.dataDir, SECRET)).toEqual([]);
  expect(grepTree(node.dataDir, Buffer.from(SECRET).toString('base64'))).toEqual([]);
  expect(node.stderr()).not.toContain(SECRET);
  // Only the unlocked node can read it back.
  const got = await cli(['vault', 'get', 'api', '--data-dir', node.dataDir]);
  expect(got).toMatchObject({code: 0, stdout: SECRET});
}, 120_000);
