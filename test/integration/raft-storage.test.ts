/**
 * Storage faults seen from the operator's side: a node whose WAL lost its last record (torn write)
 * starts and keeps everything before it; a node whose WAL has a flipped byte in the middle refuses to
 * start with a clear one-line error; so does one whose snapshot file is missing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {cleanup, cli, control, freePort, startNode, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';

const dir = tmpDir('raftfs');
const secret = writeJoinSecret(dir);
afterAll(() => {
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

function walFiles(dataDir: string): string[] {
  const d = path.join(dataDir, 'raft');
  return fs.readdirSync(d).filter((f) => f.startsWith('wal-')).sort().map((f) => path.join(d, f));
}

async function singleNode(name: string, extra: string[] = []) {
  const port = await freePort();
  const node = startNode({name, dataDir: path.join(dir, name), port, joinSecretFile: secret, extra: ['--no-mdns', '--raft-bootstrap', 'self', '--raft-tick', '20ms', ...extra]});
  await waitUp(node);
  return node;
}

async function putAll(node: RunningNode, n: number): Promise<void> {
  for (let k = 0; k < n; k++) {
    const r = await waitFor('put', () => control(node, 'kv.put', {namespace: 'default', key: `k${k}`, value: `v${k}`}).catch(() => undefined), 10_000, 100);
    expect(r.ok).toBe(true);
  }
}

test('a torn last WAL record is cut on restart; earlier writes survive', async () => {
  const node = await singleNode('torn');
  await putAll(node, 3);
  process.kill(node.proc.pid!, 'SIGKILL');
  await node.exited;
  const wal = walFiles(node.dataDir).at(-1)!;
  const size = fs.statSync(wal).size;
  fs.truncateSync(wal, size - 3); // a crash mid-write of the last record
  const again = await singleNode('torn');
  const got = await waitFor('k1 readable', () => control(again, 'kv.get', {namespace: 'default', key: 'k1'}).catch(() => undefined), 10_000, 200);
  expect(got.value).toBe('v1');
  expect((await cli(['kv', 'get', 'k0', '--data-dir', again.dataDir])).stdout).toBe('v0');
}, 60_000);

test('a flipped byte in the middle of the WAL stops the node with a clear error', async () => {
  const node = await singleNode('flip');
  await putAll(node, 5);
  process.kill(node.proc.pid!, 'SIGTERM');
  await node.exited;
  const wal = walFiles(node.dataDir)[0]!;
  const buf = fs.readFileSync(wal);
  buf[Math.floor(buf.length / 3)]! ^= 0xff;
  fs.writeFileSync(wal, buf);
  const r = await cli(['node', 'start', '--name', 'flip', '--data-dir', node.dataDir, '--port', '0', '--no-mdns', '--join-secret-file', secret, '--raft-bootstrap', 'self']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/raft storage corrupt: .*wal-.* at byte offset \d+/);
  expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('swarm:'))).toHaveLength(1);
}, 60_000);

test('a missing snapshot file stops the node with a clear error', async () => {
  const node = await singleNode('snap', ['--raft-snapshot-every', '5']);
  await putAll(node, 8);
  process.kill(node.proc.pid!, 'SIGTERM');
  await node.exited;
  const raftDir = path.join(node.dataDir, 'raft');
  const snaps = fs.readdirSync(raftDir).filter((f) => f.endsWith('.snap'));
  expect(snaps.length).toBeGreaterThan(0);
  for (const s of snaps) fs.rmSync(path.join(raftDir, s));
  const r = await cli(['node', 'start', '--name', 'snap', '--data-dir', node.dataDir, '--port', '0', '--no-mdns', '--join-secret-file', secret, '--raft-bootstrap', 'self']);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/raft storage corrupt/);
}, 60_000);
