/**
 * Test helpers that run real swarm processes (bin/run.js, compiled dist/) on loopback.
 * Every process is tracked by pid and killed in `cleanup()`; nothing else is ever signalled.
 */
import {spawn, execFile} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import {attachSocket} from '../../src/core/client/attach.js';
import type {ControlMethod, ControlParams, ControlResult} from '../../src/core/node/control-types.js';
import {NODE_V8_FLAGS, nodeProcessEnv} from '../../src/core/node/process-settings.js';

export const ROOT = process.cwd();
export const BIN = path.join(ROOT, 'bin', 'run.js');

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `swarm-${prefix}-`));
}

/**
 * A port for a test's listener, taken below the kernel's ephemeral range (32768-60999 by default) so
 * that no outbound connection, of this test or of one running beside it, can be handed the same port
 * between our check and the node's bind (a 5-node test once lost a node to exactly that). Each jest
 * worker draws from its own 2,000 ports, in order from a random start; a port still bound is skipped.
 */
const PORT_BASE = 20_000;
const PORTS_PER_WORKER = 2_000;
const portSlice = PORT_BASE + (Number(process.env['JEST_WORKER_ID'] ?? 0) % 6) * PORTS_PER_WORKER;
let portCursor = Math.floor(Math.random() * PORTS_PER_WORKER);

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORTS_PER_WORKER; tries++) {
    const port = portSlice + (portCursor++ % PORTS_PER_WORKER);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${portSlice}-${portSlice + PORTS_PER_WORKER - 1}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json?: unknown;
}

/** Runs `swarm ARGS` to completion (no stdin, no TTY), parsing stdout as JSON when it is. */
export function cli(args: string[], opts: {env?: NodeJS.ProcessEnv; timeoutMs?: number; prefix?: string[]} = {}): Promise<CliResult> {
  const argv = [...(opts.prefix ?? []), process.execPath, BIN, ...args];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), {env: {...process.env, NO_COLOR: '1', ...opts.env}, timeout: opts.timeoutMs ?? 30_000}, (err, stdout, stderr) => {
      const code = err ? (typeof (err as {code?: unknown}).code === 'number' ? (err as {code: number}).code : 1) : 0;
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({code, stdout, stderr, json});
    });
  });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface RunningNode {
  name: string;
  dataDir: string;
  port: number;
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
}

const started = new Set<ChildProcess>();

/** Fast failure-detector timings for tests; the flags are what an operator would pass. */
export const FAST_TIMINGS = ['--heartbeat-interval', '200ms', '--suspect-after', '1s', '--dead-after', '2500ms'];

export function startNode(opts: {name: string; dataDir: string; port: number; peers?: number[]; joinSecretFile?: string; extra?: string[]; prefix?: string[]; bind?: string; env?: Record<string, string>}): RunningNode {
  const args = [
    BIN, 'node', 'start',
    '--name', opts.name,
    '--data-dir', opts.dataDir,
    '--port', String(opts.port),
    '--bind', opts.bind ?? '127.0.0.1',
    ...FAST_TIMINGS,
    ...(opts.joinSecretFile ? ['--join-secret-file', opts.joinSecretFile] : []),
    ...(opts.peers ?? []).flatMap((p) => ['--peer', `127.0.0.1:${p}`]),
    ...(opts.extra ?? ['--no-mdns']),
  ];
  const argv = [...(opts.prefix ?? []), process.execPath, ...NODE_V8_FLAGS, ...args];
  // The settings bin/run.js's #! line would give it (the node is started through process.execPath here).
  const proc = spawn(argv[0]!, argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe'], env: nodeProcessEnv({...process.env, NO_COLOR: '1', ...opts.env})});
  started.add(proc);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
    proc.once('exit', (code, signal) => {
      started.delete(proc);
      resolve({code, signal});
    }),
  );
  return {name: opts.name, dataDir: opts.dataDir, port: opts.port, proc, stderr: () => err, exited};
}

/** A statically configured cluster on loopback: member names, their ports, one data dir each under `dir`. */
export interface StaticCluster {
  names: string[];
  ports: number[];
  dir: string;
  secret: string;
  /** Flags for every member (Raft bootstrap by all names and a fast tick are added). */
  extra?: (name: string) => string[];
}

/** Starts one member: the others are its static peers; all names are the initial Raft voters. */
export function startMember(c: StaticCluster, name: string, env?: Record<string, string>): RunningNode {
  const i = c.names.indexOf(name);
  return startNode({
    name,
    dataDir: path.join(c.dir, name),
    port: c.ports[i]!,
    peers: c.ports.filter((_, k) => k !== i),
    joinSecretFile: c.secret,
    extra: ['--no-mdns', '--raft-bootstrap', c.names.join(','), '--raft-tick', '20ms', ...(c.extra?.(name) ?? [])],
    ...(env ? {env} : {}),
  });
}

/**
 * Asks the node's control socket directly (in-process): polling through the CLI would spawn a Node
 * process per poll and starve the machine the nodes run on. The CLI itself has its own tests.
 */
export async function control<M extends ControlMethod>(node: RunningNode, method: M, params: ControlParams<M>, timeoutMs = 5000): Promise<ControlResult<M>> {
  const c = await attachSocket(path.join(node.dataDir, 'control.sock'), timeoutMs);
  try {
    return await c.call(method, params, {timeoutMs});
  } finally {
    await c.close();
  }
}

/** Waits until the node answers on its control socket. */
export async function waitUp(node: RunningNode, timeoutMs = 20_000): Promise<{id: string}> {
  return waitFor(`${node.name} to answer`, async () => {
    if (node.proc.exitCode !== null) throw new Error(`${node.name} exited: ${node.stderr().slice(-500)}`);
    return control(node, 'status', null, 2000);
  }, timeoutMs, 100);
}

export interface FleetJson {
  self: string;
  members: {id: string; name: string; state: string; address: string; rttMs: number | null; self: boolean; capacity: {cores: number}}[];
}

export async function fleet(node: RunningNode): Promise<FleetJson> {
  return (await control(node, 'fleet', null)) as FleetJson;
}

export function stateOf(f: FleetJson, name: string): string | undefined {
  return f.members.find((m) => m.name === name)?.state;
}

/** Kills every process this module started (by pid) that is still running. */
export function cleanup(): void {
  for (const p of started) {
    if (p.exitCode === null && p.pid) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  started.clear();
}

export function writeJoinSecret(dir: string): string {
  const file = path.join(dir, 'cluster.secret');
  fs.writeFileSync(file, 'test-cluster-secret-0123456789abcdef\n', {mode: 0o600});
  return file;
}
