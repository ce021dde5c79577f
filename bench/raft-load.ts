/**
 * Load for the raft benchmark, identical for both systems: sequential puts (latency) and N concurrent
 * clients, each a sequential put loop, for a fixed time after a warm-up (throughput).
 * Values are 256 bytes; each client overwrites its own 100 keys round-robin, so the state size stays
 * bounded (~3,200 keys with 32 clients) on both systems.
 */
import {performance} from 'node:perf_hooks';

import type {PutClient} from './raft-clusters.js';
import {quantile} from './report.js';
import type {LatencySummary} from './report.js';

export const VALUE_BYTES = 256;
const KEYS_PER_CLIENT = 100;

export const round = (x: number, digits = 3): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : NaN);

export type LatencyStats = LatencySummary;

export function latencyStats(samplesMs: number[]): LatencyStats {
  const s = [...samplesMs].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: round(quantile(s, 0.5)),
    p90: round(quantile(s, 0.9)),
    p99: round(quantile(s, 0.99)),
    mean: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
    min: round(s[0] ?? NaN),
    max: round(s[s.length - 1] ?? NaN),
  };
}

/** A 256-byte printable value that differs per put (the counter is spliced into a fixed pad). */
function valueFor(client: number, seq: number): string {
  const head = `c${client}-s${seq}-`;
  return head + PAD.slice(head.length);
}
const PAD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.repeat(VALUE_BYTES / 64);

const keyFor = (client: number, seq: number): string => `c${String(client).padStart(2, '0')}/k${String(seq % KEYS_PER_CLIENT).padStart(3, '0')}`;

export interface SequentialResult {
  warmup: number;
  samplesMs: number[];
  errors: number;
  elapsedMs: number;
  timedOut: boolean;
  stats: LatencyStats;
  putsPerSec: number;
}

/** One client: `warmup` unrecorded puts, then up to `count` timed puts (stops early at `timeLimitMs`). */
export async function sequential(c: PutClient, count: number, warmup: number, timeLimitMs: number): Promise<SequentialResult> {
  let seq = 0;
  let errors = 0;
  for (let i = 0; i < warmup; i++) {
    try {
      await c.put(keyFor(0, seq), valueFor(0, seq));
    } catch {
      errors++;
    }
    seq++;
  }
  const samplesMs: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + timeLimitMs;
  let timedOut = false;
  for (let i = 0; i < count; i++) {
    if (performance.now() > deadline) {
      timedOut = true;
      break;
    }
    const s = performance.now();
    try {
      await c.put(keyFor(0, seq), valueFor(0, seq));
      samplesMs.push(performance.now() - s);
    } catch {
      errors++;
    }
    seq++;
  }
  const elapsedMs = performance.now() - t0;
  return {warmup, samplesMs, errors, elapsedMs: round(elapsedMs, 1), timedOut, stats: latencyStats(samplesMs), putsPerSec: Math.round(samplesMs.length / (elapsedMs / 1000))};
}

export interface ThroughputResult {
  clients: number;
  warmupMs: number;
  durationMs: number;
  /** Puts acknowledged inside the measured window. */
  puts: number;
  /** Every acknowledged put, warm-up and window (for per-put resource costs over the whole phase). */
  totalPuts: number;
  putsPerSec: number;
  errors: number;
  /** Per-put latency of the puts in the window (all clients). */
  stats: LatencyStats;
  perClient: number[];
}

/**
 * `clients.length` concurrent sequential loops. Every loop runs from the start; only puts that
 * complete inside [start + warmupMs, start + warmupMs + durationMs] are counted, and no put is
 * started after the window closes.
 */
export async function throughput(clients: PutClient[], warmupMs: number, durationMs: number): Promise<ThroughputResult> {
  const start = performance.now();
  const from = start + warmupMs;
  const to = from + durationMs;
  const perClient = clients.map(() => 0);
  const samples: number[] = [];
  let errors = 0;
  let totalPuts = 0;
  await Promise.all(
    clients.map(async (c, i) => {
      let seq = 0;
      let consecutiveErrors = 0;
      while (performance.now() < to) {
        const s = performance.now();
        try {
          await c.put(keyFor(i, seq), valueFor(i, seq));
          consecutiveErrors = 0;
          totalPuts++;
          const e = performance.now();
          if (e >= from && e <= to) {
            perClient[i]!++;
            samples.push(e - s);
          }
        } catch {
          errors++;
          // Bounded: back off instead of spinning on a broken connection.
          if (++consecutiveErrors > 3) await new Promise((r) => setTimeout(r, 50));
        }
        seq++;
      }
    }),
  );
  const puts = perClient.reduce((a, b) => a + b, 0);
  return {
    clients: clients.length,
    warmupMs,
    durationMs,
    puts,
    totalPuts,
    putsPerSec: Math.round(puts / (durationMs / 1000)),
    errors,
    stats: latencyStats(samples),
    perClient,
  };
}
