/**
 * Preloaded into the fleet bench's traced `swarm sandbox run` children
 * (`node --import dist/bench/fleet-probe.js bin/run.js sandbox run ...`): records when node had booted
 * (this module runs), each docker engine request (sent, response headers, response end) and the
 * process's exit, in ms since the process started (performance.timeOrigin), and writes them to
 * $SWARM_BENCH_TRACE_FILE at exit. Nothing in src/ changes: dockerode's modem calls node:http's
 * `request`, which the probe wraps.
 */
import * as fs from 'node:fs';
import http from 'node:http';
import {syncBuiltinESMExports} from 'node:module';
import {performance} from 'node:perf_hooks';

export interface EngineCall {
  /** Short name: ping, create, attach, wait, start, inspect, kill, remove, or METHOD path. */
  name: string;
  sent: number;
  headers?: number;
  end?: number;
}

export interface Trace {
  /** This module ran: node has booted and is about to load bin/run.js. */
  boot: number;
  calls: EngineCall[];
  /** process 'exit' event. */
  exit: number;
}

/** Names the engine endpoints the docker runner uses; anything else keeps its method and path. */
export function callName(method: string, urlPath: string): string {
  const p = urlPath.split('?')[0]!.replace(/^\/v[\d.]+/, '');
  if (p === '/_ping') return 'ping';
  if (p === '/containers/create') return 'create';
  const m = /^\/containers\/[^/]+(\/[a-z]+)?$/.exec(p);
  if (m) {
    if (!m[1]) return method === 'DELETE' ? 'remove' : `${method} /containers/{id}`;
    return m[1] === '/json' ? 'inspect' : m[1].slice(1);
  }
  return `${method} ${p}`;
}

const out = process.env.SWARM_BENCH_TRACE_FILE;
if (out) {
  const trace: Trace = {boot: performance.now(), calls: [], exit: NaN};
  const request = http.request;
  const traced = function (this: unknown, ...args: Parameters<typeof http.request>): http.ClientRequest {
    const opts: http.RequestOptions = typeof args[0] === 'object' && !(args[0] instanceof URL) ? args[0] : {};
    const call: EngineCall = {name: callName(opts.method ?? 'GET', opts.path ?? ''), sent: performance.now()};
    trace.calls.push(call);
    const req = (request as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    req.once('response', (res: http.IncomingMessage) => {
      call.headers = performance.now();
      res.once('end', () => (call.end = performance.now()));
      res.once('close', () => (call.end ??= performance.now()));
    });
    return req;
  };
  http.request = traced as typeof http.request;
  syncBuiltinESMExports();
  process.once('exit', () => {
    trace.exit = performance.now();
    try {
      fs.writeFileSync(out, JSON.stringify(trace));
    } catch {
      // the bench's temp dir is gone: nothing to report to
    }
  });
}
