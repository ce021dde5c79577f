/**
 * What the node processes spend around one operation (Linux /proc): resident memory, as the
 * kernel's peak (VmHWM, reset before the operation through clear_refs so it covers only the
 * operation) and a sampled VmRSS series as a cross-check; CPU seconds; and, for the node doing the
 * work, the longest wait for an answer on its control socket (how long its event loop was blocked).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {performance} from 'node:perf_hooks';

import {attachSocket} from '../src/core/client/attach.js';
import {cpuSeconds} from './raft-clusters.js';

export interface RssReading {
  rssBytes: number;
  hwmBytes: number;
}

/** VmRSS and VmHWM of `pid` in bytes; NaN when /proc cannot be read. */
export function readRss(pid: number): RssReading {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return {rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM')};
  } catch {
    return {rssBytes: NaN, hwmBytes: NaN};
  }
}

/** Resets the peak (VmHWM) to the current RSS (`5` > clear_refs, Linux >= 4.0); false if refused. */
function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface NodeMemory {
  name: string;
  /** RSS just before the operation. */
  beforeBytes: number;
  /** Peak during the operation: VmHWM after a reset, else the largest sample. */
  peakBytes: number;
  /** Largest sampled VmRSS (every `everyMs`). */
  sampledMaxBytes: number;
  /** RSS right after the operation returned. */
  afterBytes: number;
  peakFrom: 'VmHWM' | 'samples';
  /** CPU (user + system, all threads) the process used during the operation. */
  cpuSec: number;
}

export interface Measured<T> {
  result: T;
  memory: NodeMemory[];
  /** Longest time the worker node took to answer a `status` call during the operation. */
  maxStallMs: number;
}

const SAMPLE_MS = 20;
const PROBE_MS = 100;

/** Pings `socket` (`status`) every PROBE_MS, one call at a time, until stopped; the slowest answer wins. */
function stallProbe(socket: string): {stop(): Promise<number>} {
  let stopped = false;
  let worst = 0;
  let failed = false;
  const done = (async () => {
    const c = await attachSocket(socket, 5000);
    try {
      while (!stopped) {
        const t = performance.now();
        await c.call('status', null, {timeoutMs: 600_000});
        worst = Math.max(worst, performance.now() - t);
        await new Promise((r) => setTimeout(r, PROBE_MS));
      }
    } finally {
      await c.close();
    }
  })().catch(() => {
    // the operation itself reports a node that went away; the stall figure just becomes NaN
    failed = true;
  });
  return {
    async stop() {
      stopped = true;
      await done;
      return failed ? NaN : worst;
    },
  };
}

/** Runs `fn`, watching the processes (and `workerDataDir`'s control socket) meanwhile. */
export async function measured<T>(procs: {name: string; pid: number}[], workerDataDir: string, fn: () => Promise<T>): Promise<Measured<T>> {
  const reset = procs.map((p) => resetPeak(p.pid));
  const before = procs.map((p) => readRss(p.pid).rssBytes);
  const cpu0 = procs.map((p) => cpuSeconds(p.pid));
  const max = [...before];
  const timer = setInterval(() => {
    procs.forEach((p, i) => {
      const r = readRss(p.pid).rssBytes;
      if (r > max[i]!) max[i] = r;
    });
  }, SAMPLE_MS);
  const probe = stallProbe(path.join(workerDataDir, 'control.sock'));
  let result: T;
  try {
    result = await fn();
  } finally {
    clearInterval(timer);
  }
  const maxStallMs = await probe.stop();
  const memory = procs.map((p, i): NodeMemory => {
    const now = readRss(p.pid);
    const sampledMax = Math.max(max[i]!, now.rssBytes);
    return {
      name: p.name,
      beforeBytes: before[i]!,
      peakBytes: reset[i] ? Math.max(now.hwmBytes, sampledMax) : sampledMax,
      sampledMaxBytes: sampledMax,
      afterBytes: now.rssBytes,
      peakFrom: reset[i] ? 'VmHWM' : 'samples',
      cpuSec: cpuSeconds(p.pid) - cpu0[i]!,
    };
  });
  return {result, memory, maxStallMs};
}
