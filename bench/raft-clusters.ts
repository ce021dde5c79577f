/**
 * The two 3-node clusters the raft benchmark compares, on 127.0.0.1, each with fsync on:
 *  - swarm: real `bin/run.js node start` processes (Raft WAL with fsync), driven through each node's
 *    control socket (one connection per concurrent client);
 *  - etcd: Debian's `etcd` (3.4) processes, driven with the npm `etcd3` gRPC client.
 * Every process is tracked by pid and stopped by pid (SIGTERM, then SIGKILL); nothing else is signalled.
 */
import {execFile, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import {Etcd3} from 'etcd3';

import {attachSocket} from '../src/core/client/attach.js';
import type {NodeClient} from '../src/core/client/attach.js';
import type {ProbeStats} from './raft-probe.js';
import {freePort, waitFor} from '../test/helpers/cluster.js';
import {NODE_V8_FLAGS, nodeProcessEnv} from '../src/core/node/process-settings.js';

/** dist/bench/raft-clusters.js -> <project>/bin/run.js */
export const SWARM_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./raft-probe.js', import.meta.url));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One free-port finder for tests and benches. */
export {freePort};


// ---- processes --------------------------------------------------------------------------------------

export interface Proc {
  label: string;
  child: ChildProcess;
  pid: number;
  stderrTail(): string;
  exited: Promise<void>;
}

/** Every process the benchmark started; stopped by pid only. */
export class Procs {
  private readonly live = new Set<Proc>();

  spawn(label: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    // Swarm nodes (started through node here) get the settings bin/run.js's #! line gives them.
    const base = {...process.env, NO_COLOR: '1', ...env};
    const isNode = cmd === process.execPath;
    const child = spawn(cmd, isNode ? [...NODE_V8_FLAGS, ...args] : args, {stdio: ['ignore', 'ignore', 'pipe'], env: isNode ? nodeProcessEnv(base) : base});
    if (child.pid === undefined) throw new Error(`could not start ${label} (${cmd})`);
    let tail = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      tail = (tail + d).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const p: Proc = {label, child, pid: child.pid, stderrTail: () => tail, exited};
    this.live.add(p);
    void exited.then(() => this.live.delete(p));
    return p;
  }

  /** SIGTERM (lets node write --cpu-prof profiles), SIGKILL whatever is left after `graceMs`. */
  async stopAll(graceMs = 3000): Promise<void> {
    const procs = [...this.live];
    for (const p of procs) signal(p.pid, 'SIGTERM');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(graceMs)]);
    this.killAll();
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(1000)]);
  }

  /** Resolves when every process started so far has exited. */
  allExited(): Promise<void> {
    return Promise.all([...this.live].map((p) => p.exited)).then(() => undefined);
  }

  /** Synchronous SIGKILL of everything still running (for the SIGINT handler). */
  killAll(): void {
    for (const p of this.live) if (p.child.exitCode === null && p.child.signalCode === null) signal(p.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const CLK_TCK = 100;

// ---- the common driver interface ----------------------------------------------------------------------

export interface PutClient {
  put(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

export interface NodeSample {
  name: string;
  leader: boolean;
  cpuSec: number;
  /** swarm only: from the preloaded probe */
  fsyncs?: number;
  fsyncMs?: number;
  loopActiveMs?: number;
  /** etcd only: from /metrics (etcd_disk_wal_fsync_duration_seconds) */
  walFsyncs?: number;
  walFsyncSec?: number;
  backendCommits?: number;
}

export interface Cluster {
  system: 'swarm' | 'etcd';
  leaderName: string;
  /** Opens a put client connected to the leader. */
  client(): Promise<PutClient>;
  /** Per-node counters at this instant (for deltas around a phase). */
  sample(): Promise<NodeSample[]>;
  pids(): number[];
  describe(): Record<string, unknown>;
}

// ---- swarm -------------------------------------------------------------------------------------------

export interface SwarmNodeInfo {
  name: string;
  dataDir: string;
  port: number;
  proc: Proc;
  probeFile: string;
}

/**
 * `node` arguments for member i of a static loopback cluster: its peers are the others' ports, all
 * names bootstrap Raft; with `profileDir`, a CPU profile per node.
 */
export function swarmNodeArgs(c: {names: readonly string[]; ports: readonly number[]; i: number; dataDir: string; secret: string; profileDir?: string}): string[] {
  const name = c.names[c.i]!;
  return [
    ...(c.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${c.profileDir}`, `--cpu-prof-name=swarm-${name}.cpuprofile`] : []),
    SWARM_BIN, 'node', 'start',
    '--name', name,
    '--data-dir', c.dataDir,
    '--port', String(c.ports[c.i]),
    '--bind', '127.0.0.1',
    '--no-mdns',
    '--join-secret-file', c.secret,
    ...c.ports.filter((_, k) => k !== c.i).flatMap((p) => ['--peer', `127.0.0.1:${p}`]),
    '--raft-bootstrap', c.names.join(','),
  ];
}

export async function startSwarm(procs: Procs, dir: string, opts: {tick: string; profileDir?: string; log(msg: string): void}): Promise<Cluster> {
  const names = ['r1', 'r2', 'r3'];
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'bench-raft-join-secret-0123456789abcdef\n', {mode: 0o600});
  const ports: number[] = [];
  for (let i = 0; i < names.length; i++) ports.push(await freePort());
  const nodes: SwarmNodeInfo[] = names.map((name, i) => {
    const dataDir = path.join(dir, name);
    const probeFile = path.join(dir, `${name}.probe.json`);
    const args = ['--import', PROBE, ...swarmNodeArgs({names, ports, i, dataDir, secret, ...(opts.profileDir ? {profileDir: opts.profileDir} : {})}), '--raft-tick', opts.tick];
    const proc = procs.spawn(`swarm ${name}`, process.execPath, args, {SWARM_BENCH_PROBE_FILE: probeFile});
    return {name, dataDir, port: ports[i]!, proc, probeFile};
  });
  const sock = (n: SwarmNodeInfo): string => path.join(n.dataDir, 'control.sock');
  const alive = (n: SwarmNodeInfo): void => {
    if (n.proc.child.exitCode !== null || n.proc.child.signalCode !== null) throw new Error(`swarm ${n.name} exited: ${n.proc.stderrTail().slice(-800)}`);
  };
  const statusOf = async (n: SwarmNodeInfo): Promise<{role: string; leader: string; id: string}> => {
    const c = await attachSocket(sock(n), 2000);
    try {
      return await c.call('consensus.status', null, {timeoutMs: 2000});
    } finally {
      await c.close();
    }
  };
  const leader = await waitFor(
    'a swarm Raft leader',
    async () => {
      for (const n of nodes) alive(n);
      for (const n of nodes) {
        if (!fs.existsSync(sock(n))) continue;
        const st = await statusOf(n).catch(() => undefined);
        if (st?.role === 'leader') return n;
      }
      return undefined;
    },
    30_000,
    100,
  );
  // The leader's first entry of its term must commit before writes are served promptly.
  const c0 = await attachSocket(sock(leader), 5000);
  await waitFor('a first swarm write', async () => (await c0.call('kv.put', {namespace: 'bench', key: 'hello', value: 'x'}, {timeoutMs: 3000})).ok, 15_000, 100);
  await c0.close();
  opts.log(`swarm: 3 nodes up (pids ${nodes.map((n) => n.proc.pid).join(', ')}), leader ${leader.name}`);

  const readProbe = (n: SwarmNodeInfo): ProbeStats | undefined => {
    try {
      return JSON.parse(fs.readFileSync(n.probeFile, 'utf8')) as ProbeStats;
    } catch {
      return undefined;
    }
  };
  return {
    system: 'swarm',
    leaderName: leader.name,
    async client(): Promise<PutClient> {
      const c: NodeClient = await attachSocket(sock(leader), 5000);
      return {
        async put(key, value) {
          const r = await c.call('kv.put', {namespace: 'bench', key, value}, {timeoutMs: 5000});
          if (!r.ok) throw new Error(`kv.put not ok: ${JSON.stringify(r)}`);
        },
        close: () => c.close(),
      };
    },
    async sample() {
      // Ask each node's probe for fresh counters (SIGUSR2) and wait for the rewritten file.
      return Promise.all(
        nodes.map(async (n) => {
          const before = readProbe(n)?.seq ?? 0;
          signal(n.proc.pid, 'SIGUSR2');
          const p = await waitFor(`${n.name}'s probe`, async () => {
            const s = readProbe(n);
            return s && s.seq > before ? s : undefined;
          }, 2000, 5).catch(() => undefined);
          return {
            name: n.name,
            leader: n === leader,
            cpuSec: cpuSeconds(n.proc.pid),
            fsyncs: p?.fsyncs ?? NaN,
            fsyncMs: p?.fsyncMs ?? NaN,
            loopActiveMs: p?.loopActiveMs ?? NaN,
          };
        }),
      );
    },
    pids: () => nodes.map((n) => n.proc.pid),
    describe: () => ({
      nodes: nodes.map((n) => ({name: n.name, port: n.port, pid: n.proc.pid, dataDir: n.dataDir})),
      leader: leader.name,
      command: `node --import dist/bench/raft-probe.js bin/run.js node start --name rN --data-dir <tmp>/rN --port P --bind 127.0.0.1 --no-mdns --join-secret-file <tmp>/secret --peer 127.0.0.1:<others> --raft-bootstrap r1,r2,r3 --raft-tick ${opts.tick}`,
      client: 'control socket (unix, newline-delimited JSON) of the leader, kv.put {namespace: "bench"}; one connection per concurrent client',
    }),
  };
}

// ---- etcd --------------------------------------------------------------------------------------------

export function which(cmd: string): Promise<string | undefined> {
  return new Promise((resolve) => execFile('sh', ['-c', `command -v ${cmd}`], (err, stdout) => resolve(err ? undefined : stdout.trim() || undefined)));
}

function run(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{code: number; out: string}> {
  return new Promise((resolve) => {
    execFile(cmd, args, {timeout: timeoutMs, env: {...process.env, ...env}, maxBuffer: 8 << 20}, (err, stdout, stderr) => {
      const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0;
      resolve({code, out: `${stdout}${stderr}`});
    });
  });
}

/** Finds `etcd`, installing Debian's etcd-server with apt-get when missing and running as root. */
export async function ensureEtcd(log: (msg: string) => void): Promise<{bin?: string; version?: string; why?: string}> {
  let bin = await which('etcd');
  if (!bin) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot) return {why: '`etcd` is not installed and this is not root, so it cannot be installed (apt-get install etcd-server)'};
    if (!(await which('apt-get'))) return {why: '`etcd` is not installed and there is no apt-get to install etcd-server'};
    log('etcd missing: apt-get install -y etcd-server (root) ...');
    const env = {DEBIAN_FRONTEND: 'noninteractive'};
    let r = await run('apt-get', ['install', '-y', '-q', 'etcd-server'], 180_000, env);
    if (r.code !== 0) {
      await run('apt-get', ['update', '-q'], 180_000, env);
      r = await run('apt-get', ['install', '-y', '-q', 'etcd-server'], 180_000, env);
    }
    bin = await which('etcd');
    if (!bin) return {why: `apt-get install etcd-server failed (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' | ')}`};
  }
  const v = await run(bin, ['--version'], 10_000);
  return {bin, version: /etcd Version:\s*(\S+)/.exec(v.out)?.[1] ?? v.out.trim().split('\n')[0]};
}

interface EtcdNodeInfo {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  proc: Proc;
}

/** Sums the samples of one Prometheus counter/histogram series (e.g. `..._count`) in a /metrics text. */
function metric(text: string, name: string): number {
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    seen = true;
  }
  return seen ? sum : NaN;
}

export async function startEtcd(procs: Procs, dir: string, bin: string, log: (msg: string) => void): Promise<Cluster> {
  const names = ['e1', 'e2', 'e3'];
  const cports: number[] = [];
  const pports: number[] = [];
  for (let i = 0; i < names.length; i++) {
    cports.push(await freePort());
    pports.push(await freePort());
  }
  const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${pports[i]}`).join(',');
  const nodes: EtcdNodeInfo[] = names.map((name, i) => {
    const dataDir = path.join(dir, name);
    const clientUrl = `http://127.0.0.1:${cports[i]}`;
    const peerUrl = `http://127.0.0.1:${pports[i]}`;
    const args = [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `bench-raft-${process.pid}`,
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'warn',
    ];
    return {name, dataDir, clientUrl, peerUrl, proc: procs.spawn(`etcd ${name}`, bin, args, process.arch === 'x64' ? {} : {ETCD_UNSUPPORTED_ARCH: process.arch})};
  });
  const alive = (n: EtcdNodeInfo): void => {
    if (n.proc.child.exitCode !== null || n.proc.child.signalCode !== null) throw new Error(`etcd ${n.name} exited: ${n.proc.stderrTail().slice(-800)}`);
  };
  const statusOf = async (n: EtcdNodeInfo): Promise<{member: string; leader: string}> => {
    const c = new Etcd3({hosts: n.clientUrl, dialTimeout: 1000});
    try {
      const st = await c.maintenance.status();
      return {member: st.header.member_id, leader: st.leader};
    } finally {
      c.close();
    }
  };
  const leader = await waitFor(
    'an etcd leader',
    async () => {
      for (const n of nodes) alive(n);
      for (const n of nodes) {
        const st = await statusOf(n).catch(() => undefined);
        if (st && st.leader !== '0' && st.member === st.leader) return n;
      }
      return undefined;
    },
    30_000,
    100,
  );
  const c0 = new Etcd3({hosts: leader.clientUrl});
  await waitFor('a first etcd write', async () => (await c0.put('bench/hello').value('x'), true), 15_000, 100);
  c0.close();
  log(`etcd: 3 nodes up (pids ${nodes.map((n) => n.proc.pid).join(', ')}), leader ${leader.name}`);

  return {
    system: 'etcd',
    leaderName: leader.name,
    async client(): Promise<PutClient> {
      // One client (gRPC channel, TCP connection) per concurrent client, to the leader like swarm's.
      const c = new Etcd3({hosts: leader.clientUrl});
      return {
        async put(key, value) {
          await c.put(`bench/${key}`).value(value);
        },
        close: async () => c.close(),
      };
    },
    async sample() {
      return Promise.all(
        nodes.map(async (n) => {
          let text = '';
          try {
            const res = await fetch(`${n.clientUrl}/metrics`);
            text = await res.text();
          } catch {
            // counters unavailable: NaN below
          }
          return {
            name: n.name,
            leader: n === leader,
            cpuSec: cpuSeconds(n.proc.pid),
            walFsyncs: metric(text, 'etcd_disk_wal_fsync_duration_seconds_count'),
            walFsyncSec: metric(text, 'etcd_disk_wal_fsync_duration_seconds_sum'),
            backendCommits: metric(text, 'etcd_disk_backend_commit_duration_seconds_count'),
          };
        }),
      );
    },
    pids: () => nodes.map((n) => n.proc.pid),
    describe: () => ({
      nodes: nodes.map((n) => ({name: n.name, clientUrl: n.clientUrl, peerUrl: n.peerUrl, pid: n.proc.pid, dataDir: n.dataDir})),
      leader: leader.name,
      command: `${bin} --name eN --data-dir <tmp>/eN --listen-client-urls/--advertise-client-urls http://127.0.0.1:CP --listen-peer-urls/--initial-advertise-peer-urls http://127.0.0.1:PP --initial-cluster e1=..,e2=..,e3=.. --initial-cluster-state new --logger zap --log-level warn (defaults otherwise: fsync on, heartbeat 100 ms, election 1000 ms)`,
      client: 'npm etcd3 (gRPC) to the leader\'s client URL, put bench/<key>; one Etcd3 instance per concurrent client',
    }),
  };
}

/**
 * A bench's scratch space: a temp dir (and one for CPU profiles when asked), and SIGINT/SIGTERM
 * handlers that stop its processes and remove the dir. `release()` stops the processes, removes the
 * dir and the handlers (the profiles stay for the report).
 */
export function benchScratch(name: string, procs: Procs, profile: boolean): {dir: string; profileDir?: string; release(graceMs: number): Promise<void>} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `swarm-bench-${name}-`));
  const profileDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), `swarm-bench-${name}-prof-`)) : undefined;
  const onSignal = (): void => {
    procs.killAll();
    // Reap the killed children (so none is left as a zombie), bounded, then remove the temp dir.
    void Promise.race([procs.allExited(), sleep(2000)]).finally(() => {
      fs.rmSync(dir, {recursive: true, force: true});
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    dir,
    ...(profileDir ? {profileDir} : {}),
    async release(graceMs) {
      await procs.stopAll(graceMs);
      fs.rmSync(dir, {recursive: true, force: true});
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}
