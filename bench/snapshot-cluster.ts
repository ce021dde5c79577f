/**
 * Four real swarm nodes on 127.0.0.1 for the snapshot benchmark: `bin/run.js node start` processes
 * (no mDNS, static peers, Raft bootstrapped by all four names, a join secret file), each driven
 * through its control socket. Processes are the ones `Procs` started, stopped by pid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {attachSocket} from '../src/core/client/attach.js';
import type {ControlMethod, ControlParams, ControlResult} from '../src/core/node/control-types.js';
import {freePort, swarmNodeArgs} from './raft-clusters.js';
import type {Proc, Procs} from './raft-clusters.js';
import {waitFor} from '../test/helpers/cluster.js';

export const NODE_NAMES = ['s1', 's2', 's3', 's4'];

export interface SnapNode {
  name: string;
  dataDir: string;
  port: number;
  proc: Proc;
}

export interface SnapCluster {
  nodes: SnapNode[];
  /** One control call on a fresh connection (the CLI's path without its process start-up). */
  call<M extends ControlMethod>(node: SnapNode, method: M, params: ControlParams<M>, timeoutMs?: number): Promise<ControlResult<M>>;
  command: string;
}

const sock = (n: SnapNode): string => path.join(n.dataDir, 'control.sock');

async function call<M extends ControlMethod>(node: SnapNode, method: M, params: ControlParams<M>, timeoutMs = 10_000): Promise<ControlResult<M>> {
  const c = await attachSocket(sock(node), Math.min(timeoutMs, 5000));
  try {
    return await c.call(method, params, {timeoutMs});
  } finally {
    await c.close();
  }
}

/** Starts the nodes and resolves once every node sees four registered, alive members. */
export async function startSnapshotCluster(procs: Procs, dir: string, opts: {profileDir?: string; log(msg: string): void}): Promise<SnapCluster> {
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'bench-snapshot-join-secret-0123456789abcdef\n', {mode: 0o600});
  const ports: number[] = [];
  for (let i = 0; i < NODE_NAMES.length; i++) ports.push(await freePort());
  const nodes: SnapNode[] = NODE_NAMES.map((name, i) => {
    const dataDir = path.join(dir, name);
    const args = swarmNodeArgs({names: NODE_NAMES, ports, i, dataDir, secret, ...(opts.profileDir ? {profileDir: opts.profileDir} : {})});
    return {name, dataDir, port: ports[i]!, proc: procs.spawn(`swarm ${name}`, process.execPath, args)};
  });
  const alive = (n: SnapNode): void => {
    if (n.proc.child.exitCode !== null || n.proc.child.signalCode !== null) throw new Error(`swarm ${n.name} exited: ${n.proc.stderrTail().slice(-800)}`);
  };
  await waitFor(
    'four registered, alive members on every node',
    async () => {
      for (const n of nodes) alive(n);
      for (const n of nodes) {
        if (!fs.existsSync(sock(n))) return false;
        const f = await call(n, 'fleet', null, 2000);
        if (f.members.filter((m) => m.registered && m.state === 'alive').length !== nodes.length) return false;
      }
      return true;
    },
    60_000,
    200,
  );
  opts.log(`swarm: ${nodes.length} nodes up and registered (pids ${nodes.map((n) => n.proc.pid).join(', ')})`);
  return {
    nodes,
    call,
    command: `node bin/run.js node start --name sN --data-dir <tmp>/sN --port P --bind 127.0.0.1 --no-mdns --join-secret-file <tmp>/secret --peer 127.0.0.1:<others> --raft-bootstrap ${NODE_NAMES.join(',')} (default timings)`,
  };
}
