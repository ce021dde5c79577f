/**
 * Real mDNS between real nodes: three network namespaces on a bridge (10.x addresses only inside the
 * namespaces this test creates, removed afterwards), one node in each, no --peer. They must find each
 * other by multicast on their bind interface, then be admitted by the handshake.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {cleanup, fleet, startNode, stateOf, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';
import {canUseNetns, createLab} from '../helpers/netns.js';
import type {NetnsLab} from '../helpers/netns.js';

const can = canUseNetns();
const dir = tmpDir('mdns');
let lab: NetnsLab | undefined;
const nodes: RunningNode[] = [];

beforeAll(async () => {
  if (!can.ok) return;
  lab = await createLab(3);
  const secret = writeJoinSecret(dir);
  lab.hosts.forEach((h, i) => {
    nodes.push(
      startNode({
        name: `m${i + 1}`,
        dataDir: path.join(dir, `m${i + 1}`),
        port: 7420,
        bind: h.address,
        joinSecretFile: secret,
        extra: [], // mDNS on (the default), no --peer
        prefix: ['ip', 'netns', 'exec', h.ns],
      }),
    );
  });
  await Promise.all(nodes.map((n) => waitUp(n)));
}, 60_000);

afterAll(async () => {
  cleanup();
  await lab?.destroy();
  fs.rmSync(dir, {recursive: true, force: true});
});

test('three nodes in three namespaces discover each other with mDNS alone', async () => {
  if (!can.ok) {
    if (process.env.CI) throw new Error(`mDNS namespace test must run in CI: ${can.reason}`);
    console.warn(`skipping mDNS namespace test: ${can.reason}`);
    return;
  }
  for (const n of nodes) {
    const f = await waitFor(`${n.name} to discover both others`, async () => {
      const fl = await fleet(n);
      return ['m1', 'm2', 'm3'].every((name) => stateOf(fl, name) === 'alive') && fl;
    }, 20_000, 250);
    const addresses = f.members.map((m) => m.address).sort();
    expect(addresses).toEqual(lab!.hosts.map((h) => `tcp://${h.address}:7420`).sort());
  }
}, 60_000);

test('a node that stops sends its goodbye and is seen leaving', async () => {
  if (!can.ok) return;
  process.kill(nodes[2]!.proc.pid!, 'SIGTERM');
  expect((await nodes[2]!.exited).code).toBe(0);
  await waitFor('m3 left on m1', async () => stateOf(await fleet(nodes[0]!), 'm3') === 'left', 5000);
}, 20_000);
