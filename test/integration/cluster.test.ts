/**
 * Three real node processes on loopback with static peers, talking over real zeromq.
 * Node c only knows node a: it must learn b through gossip (and b learn c), verified by handshakes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {cleanup, cli, fleet, freePort, startNode, stateOf, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';

const dir = tmpDir('cluster');
const secret = writeJoinSecret(dir);
let ports: number[] = [];
const nodes: Record<string, RunningNode> = {};

function start(name: 'a' | 'b' | 'c'): RunningNode {
  const i = ['a', 'b', 'c'].indexOf(name);
  const peers = name === 'a' ? [ports[1]!] : [ports[0]!];
  nodes[name] = startNode({name, dataDir: path.join(dir, name), port: ports[i]!, peers, joinSecretFile: secret});
  return nodes[name]!;
}

const allAlive = (f: Awaited<ReturnType<typeof fleet>>) => ['a', 'b', 'c'].every((n) => stateOf(f, n) === 'alive') && f;

beforeAll(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  start('a');
  start('b');
  start('c');
  await Promise.all(Object.values(nodes).map((n) => waitUp(n)));
}, 30_000);

afterAll(() => {
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

test('all three see each other alive in fleet status --json, with rtt and capacity', async () => {
  for (const n of ['a', 'b', 'c'] as const) {
    const f = await waitFor(`${n} to see all alive`, async () => allAlive(await fleet(nodes[n]!)), 15_000);
    expect(f.members).toHaveLength(3);
    expect(f.members.filter((m) => m.self)).toHaveLength(1);
    const others = f.members.filter((m) => !m.self);
    for (const m of others) {
      expect(m.id).toMatch(/^[0-9a-f]{32}$/);
      expect(m.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(m.capacity.cores).toBeGreaterThan(0);
    }
    await waitFor(`${n} to have rtt for every peer`, async () => (await fleet(nodes[n]!)).members.filter((m) => !m.self).every((m) => m.rttMs !== null), 5000);
  }
}, 40_000);

test('kill -9 one node: the others mark it suspect, then dead; restarted it rejoins with the same id', async () => {
  const before = await fleet(nodes.b!);
  const idC = before.members.find((m) => m.name === 'c')!.id;
  const killedAt = Date.now();
  process.kill(nodes.c!.proc.pid!, 'SIGKILL');
  await nodes.c!.exited;
  // Timings: suspect after 1s, dead after 2.5s of silence (FAST_TIMINGS); allow scheduling slack.
  await waitFor('c suspect on a', async () => stateOf(await fleet(nodes.a!), 'c') === 'suspect', 5000, 50);
  const suspectMs = Date.now() - killedAt;
  await waitFor('c dead on a and b', async () => stateOf(await fleet(nodes.a!), 'c') === 'dead' && stateOf(await fleet(nodes.b!), 'c') === 'dead', 8000, 100);
  const deadMs = Date.now() - killedAt;
  expect(suspectMs).toBeLessThan(5000);
  expect(deadMs).toBeGreaterThanOrEqual(2000);
  expect(deadMs).toBeLessThan(8000);

  start('c');
  const st = await waitUp(nodes.c!);
  expect(st.id).toBe(idC);
  for (const n of ['a', 'b', 'c'] as const) await waitFor(`${n} to see all alive after rejoin`, async () => allAlive(await fleet(nodes[n]!)), 20_000);
}, 60_000);

test('SIGTERM: exit 0 within 2 s and the others see it leave', async () => {
  const t0 = Date.now();
  process.kill(nodes.b!.proc.pid!, 'SIGTERM');
  const {code} = await nodes.b!.exited;
  const tookMs = Date.now() - t0;
  expect(code).toBe(0);
  expect(tookMs).toBeLessThan(2000);
  for (const n of ['a', 'c'] as const) await waitFor(`${n} to see b left`, async () => stateOf(await fleet(nodes[n]!), 'b') === 'left', 3000, 100);
  expect(fs.existsSync(path.join(dir, 'b', 'control.sock'))).toBe(false);
}, 20_000);

test('commands against a stopped node exit 4 with a one-line message; JSON errors on stderr', async () => {
  const r = await cli(['fleet', 'status', '--data-dir', path.join(dir, 'b')]);
  expect(r.code).toBe(4);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/no node running/);
  const j = await cli(['node', 'status', '--json', '--data-dir', path.join(dir, 'b')]);
  expect(j.code).toBe(4);
  expect(JSON.parse(j.stderr)).toMatchObject({error: {code: 'unreachable'}});
  expect(j.stdout).toBe('');
});

test('node stop stops a running node gracefully', async () => {
  const r = await cli(['node', 'stop', '--json', '--data-dir', nodes.c!.dataDir]);
  expect(r.code).toBe(0);
  expect(r.json).toMatchObject({stopped: true});
  const {code} = await nodes.c!.exited;
  expect(code).toBe(0);
  await waitFor('a to see c left', async () => stateOf(await fleet(nodes.a!), 'c') === 'left', 3000, 100);
});
