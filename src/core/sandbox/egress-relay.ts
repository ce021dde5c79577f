/**
 * The egress relay: the only way out of a sandbox's network namespace, and it lives outside it.
 *
 * A short-lived helper (`node -e`, started through `enter`, e.g. `ip netns exec NAME` or
 * `nsenter -t PID -n`) opens one listening TCP socket per allowed ip:port inside the sandbox's
 * namespace and hands each socket over to this process through Node's IPC channel, then exits. The
 * accepted connections therefore arrive here, in the caller's (host) namespace, where each is piped to
 * exactly the ip:port it was accepted on. Nothing in the sandbox can change what is listened on or
 * where it leads: the sockets and the dialling belong to this process. TCP only.
 */
import {spawn} from 'node:child_process';
import * as net from 'node:net';

import type {EgressTarget} from './egress-rules.js';

const SETUP_TIMEOUT_MS = 10_000;
/** A destination that does not answer is given up after this long (the sandbox sees a reset). */
const CONNECT_TIMEOUT_MS = 15_000;
/** Simultaneous relayed connections per run; beyond it new ones are dropped (host fds are not the sandbox's). */
const MAX_CONNECTIONS = 256;

/**
 * Runs inside the sandbox's namespace as root, before the sandbox starts: listen, hand over, exit.
 * Plain CommonJS given to `node -e`, so it needs no build step and no file on disk.
 */
const LISTENER_SOURCE = `'use strict';
const net = require('node:net');
const targets = JSON.parse(process.argv[1]);
process.on('disconnect', () => process.exit(0));
targets.forEach((t, i) => {
  const server = net.createServer();
  server.on('error', (err) => process.send({i, error: String(err.code || err.message)}));
  server.listen({host: t.ip, port: t.port}, () => process.send({i}, server));
});`;

export interface EgressStats {
  /** Connections relayed to their destination (accepted and dialled). */
  connections: number;
  /** Connections dropped: over the limit, or the destination could not be reached. */
  failed: number;
  /** Bytes from the sandbox to destinations. */
  bytesOut: number;
  /** Bytes from destinations to the sandbox. */
  bytesIn: number;
}

export interface EgressRelay {
  readonly stats: EgressStats;
  /** Stops listening and cuts every relayed connection. Idempotent. */
  close(): void;
}

export class EgressSetupError extends Error {
  override readonly name = 'EgressSetupError';
}

interface ListenerMessage {
  i: number;
  error?: string;
}

function isListenerMessage(m: unknown): m is ListenerMessage {
  return typeof m === 'object' && m !== null && typeof (m as {i?: unknown}).i === 'number';
}

/** Pipes one accepted sandbox connection to its destination; calls done once both sides are closed. */
function relayOne(down: net.Socket, target: EgressTarget, stats: EgressStats, live: Set<net.Socket>, done: () => void): void {
  const up = net.connect({host: target.ip, port: target.port, allowHalfOpen: true});
  live.add(down);
  live.add(up);
  const timer = setTimeout(() => up.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
  let connected = false;
  up.once('connect', () => {
    clearTimeout(timer);
    connected = true;
    stats.connections++;
    // Half-closes pass through (pipe ends the other side); each socket goes away once both ways ended.
    down.pipe(up);
    up.pipe(down);
    down.resume();
  });
  // An error on either side ends both; a reset tells the sandbox the way is closed.
  const fail = (): void => {
    clearTimeout(timer);
    if (!connected) stats.failed++;
    down.resetAndDestroy();
    up.destroy();
  };
  up.on('error', fail);
  down.on('error', fail);
  let open = 2;
  for (const s of [down, up]) {
    s.once('close', () => {
      live.delete(s);
      if (--open > 0) return;
      clearTimeout(timer);
      stats.bytesOut += down.bytesRead;
      stats.bytesIn += up.bytesRead;
      done();
    });
  }
}

/**
 * Opens every target inside the namespace reached through `enter` and relays what arrives.
 * Throws EgressSetupError when any target cannot be listened on (nothing is left open then).
 */
export async function startEgressRelay(enter: readonly string[], targets: readonly EgressTarget[]): Promise<EgressRelay> {
  const stats: EgressStats = {connections: 0, failed: 0, bytesOut: 0, bytesIn: 0};
  const live = new Set<net.Socket>();
  const servers: net.Server[] = [];
  let active = 0;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const s of servers) s.close();
    for (const s of live) s.destroy();
    live.clear();
  };

  const argv = [...enter, process.execPath, '-e', LISTENER_SOURCE, JSON.stringify(targets)];
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'},
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 2_000) stderr += d.toString();
  });

  const ready = new Promise<void>((resolve, reject) => {
    let received = 0;
    const timer = setTimeout(() => reject(new EgressSetupError(`the relay did not start within ${SETUP_TIMEOUT_MS / 1000} s`)), SETUP_TIMEOUT_MS);
    const settle = (err?: EgressSetupError): void => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (err) => settle(new EgressSetupError(`the relay could not start: ${err.message}`)));
    child.on('exit', (code, signal) => {
      const why = stderr.trim().split('\n').pop() ?? '';
      settle(new EgressSetupError(`the relay exited early (${signal ?? `exit ${code}`})${why ? `: ${why}` : ''}`));
    });
    child.on('message', (msg: unknown, handle: unknown) => {
      if (closed) {
        if (handle instanceof net.Server) handle.close(); // arrived after a failure: not ours to keep
        return;
      }
      if (!isListenerMessage(msg) || msg.i < 0 || msg.i >= targets.length) return;
      const target = targets[msg.i]!;
      if (msg.error !== undefined || !(handle instanceof net.Server)) {
        settle(new EgressSetupError(`the relay cannot listen on ${target.ip}:${target.port}: ${msg.error ?? 'no socket received'}`));
        return;
      }
      // Our own server on the received socket: half-open kept (request/response over a half-close
      // works) and paused until the destination answers, so no byte is read before it can go somewhere.
      const server = net.createServer({allowHalfOpen: true, pauseOnConnect: true}, (down) => {
        if (closed || active >= MAX_CONNECTIONS) {
          stats.failed++;
          down.resetAndDestroy();
          return;
        }
        active++;
        relayOne(down, target, stats, live, () => active--);
      });
      server.on('error', () => undefined); // accept errors (e.g. EMFILE) only cost that connection
      servers.push(server);
      server.listen(handle);
      if (++received === targets.length) settle();
    });
  });

  try {
    await ready;
  } catch (err) {
    close();
    throw err;
  } finally {
    // The helper's job ends with the hand-over (or the failure): let it go, by its pid if it lingers.
    child.removeAllListeners('exit');
    if (child.connected) child.disconnect();
    const gone = new Promise<void>((resolve) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await gone;
    clearTimeout(t);
  }
  return {stats, close};
}
