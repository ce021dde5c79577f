/**
 * Real multicast between three "machines": each MdnsDiscovery runs in its own network namespace of a
 * netns lab (test/helpers/netns.ts), as a child process (dist/test/helpers/netns-child.js, built by
 * `npm test`'s tsc step). Needs root; without it the test says why and passes, except on CI where it fails.
 */
import {spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

import {waitFor} from '../helpers/cluster.js';
import type {ChildInit} from '../helpers/netns-child.js';
import {canUseNetns, createLab} from '../helpers/netns.js';
import type {NetnsHost, NetnsLab} from '../helpers/netns.js';

const CHILD = path.resolve(process.cwd(), 'dist/test/helpers/netns-child.js');

interface PeerEvent {
  id: string;
  host: string;
  port: number;
  fingerprint: string;
  name?: string;
}
interface ChildEvent {
  event: string;
  peer?: PeerEvent;
  id?: string;
  message?: string;
  stats?: {queriesSent: number; responsesSent: number; malformed: number; foreign: number};
}

interface Node {
  init: ChildInit;
  host: NetnsHost;
  proc: ChildProcess;
  events: ChildEvent[];
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
let lab: NetnsLab | undefined;

function startChild(host: NetnsHost, init: ChildInit): Node {
  const proc = spawn('ip', ['netns', 'exec', host.ns, process.execPath, CHILD, JSON.stringify(init)], {stdio: ['pipe', 'pipe', 'pipe']});
  children.push(proc);
  const events: ChildEvent[] = [];
  readline.createInterface({input: proc.stdout!}).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as ChildEvent);
    } catch {
      events.push({event: 'garbage', message: line});
    }
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {init, host, proc, events, stderr: () => err, exited};
}

function sees(node: Node, other: Node): boolean {
  return node.events.some(
    (e) =>
      e.event === 'peer' &&
      e.peer?.id === other.init.id &&
      e.peer.host === other.host.address &&
      e.peer.port === other.init.port &&
      e.peer.fingerprint === other.init.fingerprint &&
      e.peer.name === other.init.name,
  );
}

afterAll(async () => {
  // Only our own children, by pid; `ip netns exec` execs node in place, so the pid is node's.
  for (const p of children) if (p.exitCode === null && p.signalCode === null && p.pid) p.kill('SIGKILL');
  await lab?.destroy();
});

describe('mDNS discovery across network namespaces', () => {
  test('three nodes find each other, then see a goodbye when one stops', async () => {
    const can = canUseNetns();
    if (!can.ok) {
      if (process.env.CI) throw new Error(`CI must run the netns mDNS test, but: ${can.reason}`);
      console.warn(`mdns-discovery netns test not run: ${can.reason}`);
      return;
    }
    if (!fs.existsSync(CHILD)) throw new Error(`${CHILD} is missing: build first (npm test does; or npx tsc -p tsconfig.json)`);

    lab = await createLab(3);
    const t0 = Date.now();
    const nodes = lab.hosts.map((host, i) =>
      startChild(host, {
        id: crypto.randomBytes(16).toString('hex'),
        name: `n${i + 1}`,
        port: 7400 + i,
        fingerprint: `SHA256:${crypto.randomBytes(32).toString('base64').replace(/=+$/, '')}`,
        // The third node binds the wildcard: no A record, so peers must take its address from the packet
        // source, and its multicast leaves through the lab's 224/4 route.
        interfaceAddress: i === 2 ? '0.0.0.0' : host.address,
        queryIntervalMs: 500,
      }),
    );

    await waitFor(
      'every node to see the two others',
      () => {
        for (const n of nodes) if (n.proc.exitCode !== null) throw new Error(`${n.init.name} exited: ${n.stderr()} ${JSON.stringify(n.events)}`);
        return nodes.every((n) => nodes.every((o) => o === n || sees(n, o)));
      },
      10_000,
    );
    const discoveredMs = Date.now() - t0;

    for (const n of nodes) {
      // Never itself, nothing unparseable, no socket errors.
      expect(n.events.filter((e) => e.event === 'peer' && e.peer?.id === n.init.id)).toEqual([]);
      expect(n.events.filter((e) => e.event === 'error' || e.event === 'garbage')).toEqual([]);
    }

    const [gone, ...rest] = nodes as [Node, Node, Node];
    const t1 = Date.now();
    gone.proc.kill('SIGTERM');
    await waitFor('the others to get the goodbye', () => rest.every((n) => n.events.some((e) => e.event === 'goodbye' && e.id === gone.init.id)), 5_000);
    const goodbyeMs = Date.now() - t1;
    expect(await gone.exited).toBe(0);
    const goneStats = gone.events.find((e) => e.event === 'stopped')?.stats;
    expect(goneStats).toMatchObject({malformed: 0});
    expect(goneStats!.queriesSent).toBeGreaterThanOrEqual(1);
    expect(goneStats!.responsesSent).toBeGreaterThanOrEqual(2); // announcement + goodbye

    for (const n of rest) n.proc.kill('SIGTERM');
    for (const n of rest) {
      expect(await n.exited).toBe(0);
      expect(n.events.find((e) => e.event === 'stopped')?.stats).toMatchObject({malformed: 0});
    }
    if (process.env.MDNS_TIMINGS) console.info(`mdns netns: full discovery in ${discoveredMs} ms, goodbye seen in ${goodbyeMs} ms`);
  });
});
