/**
 * Transport benchmark: raw zeromq DEALER->ROUTER (no crypto) vs two Voyager endpoints (Noise XXpsk3
 * link, AES-256-GCM frames), side by side in one run on 127.0.0.1. Voyager runs twice: `swarm` with its
 * default same-tick coalescing (many envelopes per frame and AEAD operation) and `swarm-1` with
 * `coalesce: false` (one frame and AEAD operation per message, the per-message comparison with raw).
 * Every endpoint is its own forked process (bench/transport-peer.ts), all modes are driven by the same
 * code, throughput runs are repeated with the order rotated, and the report is ratios (mode/raw)
 * because the machine is noisy.
 */
import {fork} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as zmq from 'zeromq';

import type {BenchOptions, BenchOutput} from './run.js';
import {summariseProfile} from './cpuprofile.js';
import type {ProfileSummary} from './cpuprofile.js';
import type {Call, LatencyParams, LatencyResult, Mode, Role, ServerCounts, ThroughputParams, ThroughputResult} from './transport-peer.js';
import {stageTimings} from './transport-stages.js';
import type {StageTiming} from './transport-stages.js';
import {machineFacts} from './machine.js';
import {fmtInt, quantile, table} from './report.js';
import type {LatencySummary} from './report.js';

const PEER_SCRIPT = fileURLToPath(new URL('./transport-peer.js', import.meta.url));
// Not imported from transport-peer.js: importing that module would run the child's main().
const MODES: Mode[] = ['raw', 'swarm', 'swarm-1'];
type SwarmMode = Exclude<Mode, 'raw'>;
const SWARM_MODES: SwarmMode[] = ['swarm', 'swarm-1'];
/**
 * The target is judged on the link as shipped (coalescing on); the per-message mode is reported next
 * to it, as the worst case (a sender that never has two envelopes queued in one tick).
 */
const TARGET_MODE: SwarmMode = 'swarm';
const TARGET_RATIO = 0.5;
const TARGET_TEXT = 'secure link keeps >= 50% of raw zeromq pipelined throughput at 1 KiB';
const MODE_TEXT: Record<Mode, string> = {
  raw: 'zeromq DEALER (client) -> ROUTER (server), no crypto; 5-byte kind/id header + payload',
  swarm: 'Voyager <-> Voyager (default coalesce: true): envelopes queued in the same tick share one AES-256-GCM frame',
  'swarm-1': 'Voyager <-> Voyager with coalesce: false on both ends: one AES-256-GCM frame (one AEAD operation) per envelope',
};

interface SizePlan {
  size: number;
  label: string;
  warmCount: number;
  count: number;
  batch: number;
  window: number;
  latencyRounds: number;
  latencyWarmup: number;
}

interface Plan {
  reps: number;
  timeLimitMs: number;
  sizes: SizePlan[];
}

function plan(quick: boolean): Plan {
  if (quick) {
    return {
      reps: 3,
      timeLimitMs: 3000,
      sizes: [
        {size: 1024, label: '1 KiB', warmCount: 3000, count: 15_000, batch: 500, window: 4, latencyRounds: 300, latencyWarmup: 100},
        {size: 65536, label: '64 KiB', warmCount: 150, count: 1200, batch: 32, window: 4, latencyRounds: 150, latencyWarmup: 30},
      ],
    };
  }
  return {
    reps: 3,
    timeLimitMs: 10_000,
    sizes: [
      {size: 1024, label: '1 KiB', warmCount: 10_000, count: 60_000, batch: 500, window: 4, latencyRounds: 1500, latencyWarmup: 300},
      {size: 65536, label: '64 KiB', warmCount: 500, count: 4000, batch: 32, window: 4, latencyRounds: 600, latencyWarmup: 100},
    ],
  };
}

// ---- child processes ------------------------------------------------------------------------------

class Peer {
  private nextId = 1;
  private readonly pending = new Map<number, {resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout}>();
  private exited = false;
  readonly exit: Promise<void>;

  private constructor(
    readonly role: Role,
    readonly mode: Mode,
    readonly child: ChildProcess,
    readonly address: string,
  ) {
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (m: {id?: number; ok?: boolean; result?: unknown; error?: string}) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.role}/${this.mode}: ${m.error}`));
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${this.role}/${this.mode} exited (code ${code}, signal ${signal})`));
      }
      this.pending.clear();
    });
  }

  static start(role: Role, mode: Mode, execArgv: string[]): Promise<Peer> {
    const child = fork(PEER_SCRIPT, [role, mode], {execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${role}/${mode} did not start within 10s`));
      }, 10_000);
      child.once('message', (m: {ready?: boolean; address?: string}) => {
        clearTimeout(timer);
        if (m.ready) resolve(new Peer(role, mode, child, m.address ?? ''));
        else reject(new Error(`${role}/${mode}: unexpected first message`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${role}/${mode} exited during start (code ${code})`));
      });
    });
  }

  call<T>(c: Call, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.role}/${this.mode} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.role}/${this.mode}: ${c.cmd} timed out after ${timeoutMs}ms`));
      }, timeoutMs);
      this.pending.set(id, {resolve: resolve as (v: unknown) => void, reject, timer});
      this.child.send({id, ...c});
    });
  }

  /** Asks the child to exit (so profiles get written); SIGKILLs this child's pid after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    await this.call({cmd: 'stop'}, 3000).catch(() => {});
    const killer = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, 5000);
    await this.exit;
    clearTimeout(killer);
  }
}

// ---- measurements ---------------------------------------------------------------------------------

interface ThroughputRun {
  mode: Mode;
  size: number;
  rep: number | 'warmup';
  attempted: number;
  delivered: number;
  refused: number;
  asyncDrops: number;
  lost: number;
  elapsedMs: number;
  msgsPerSec: number;
  mbPerSec: number;
  timedOut: boolean;
  serverDrops: Record<string, number>;
}

interface LatencyStats extends LatencySummary {
  roundTripsPerSec: number;
  timedOut: boolean;
  samplesUs: number[];
}

function median(xs: number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

interface Pair {
  server: Peer;
  client: Peer;
}

async function throughputRun(pair: Pair, sp: SizePlan, count: number, rep: number | 'warmup', timeLimitMs: number): Promise<ThroughputRun> {
  await pair.server.call({cmd: 'reset'}, 5000);
  const params: ThroughputParams = {size: sp.size, count, batch: sp.batch, window: sp.window, timeLimitMs};
  const r = await pair.client.call<ThroughputResult>({cmd: 'throughput', params}, timeLimitMs + 20_000);
  const s = await pair.server.call<ServerCounts>({cmd: 'counts'}, 5000);
  const seconds = r.elapsedNs / 1e9;
  return {
    mode: pair.client.mode,
    size: sp.size,
    rep,
    attempted: r.attempted,
    delivered: s.count,
    refused: r.refused,
    asyncDrops: r.asyncDrops,
    lost: r.attempted - r.refused - r.asyncDrops - s.count,
    elapsedMs: round(r.elapsedNs / 1e6, 2),
    msgsPerSec: Math.round(s.count / seconds),
    mbPerSec: round(s.bytes / seconds / 1e6),
    timedOut: r.timedOut,
    serverDrops: s.drops,
  };
}

async function latencyRun(pair: Pair, sp: SizePlan, timeLimitMs: number): Promise<LatencyStats> {
  const params: LatencyParams = {size: sp.size, rounds: sp.latencyRounds, warmup: sp.latencyWarmup, timeLimitMs};
  const r = await pair.client.call<LatencyResult>({cmd: 'latency', params}, timeLimitMs + 20_000);
  const sorted = [...r.samplesUs].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    p50: round(quantile(sorted, 0.5)),
    p90: round(quantile(sorted, 0.9)),
    p99: round(quantile(sorted, 0.99)),
    mean: round(mean),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
    roundTripsPerSec: Math.round(sorted.length / (r.elapsedNs / 1e9)),
    timedOut: r.timedOut,
    samplesUs: r.samplesUs.map((x) => round(x)),
  };
}

// ---- output ---------------------------------------------------------------------------------------

const fmtRatio = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const fmtLat = (s: LatencyStats): string => `${Math.round(s.p50)}/${Math.round(s.p99)}`;

// ---- the benchmark --------------------------------------------------------------------------------

export async function runTransport(opts: BenchOptions): Promise<BenchOutput> {
  const p = plan(opts.quick);
  const started = new Date();
  const log = (msg: string): void => void process.stderr.write(`[transport] ${msg}\n`);
  const profileDir = opts.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-bench-prof-')) : undefined;
  const execArgvFor = (role: Role, mode: Mode): string[] =>
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${mode}-${role}.cpuprofile`] : [];

  const peers: Peer[] = [];
  const pairs = {} as Record<Mode, Pair>;
  const throughputRuns: ThroughputRun[] = [];
  const latency: ({size: number} & Record<Mode, LatencyStats>)[] = [];
  const onSignal = (): void => {
    for (const peer of peers) if (!peer.child.killed) peer.child.kill('SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    // The pairs start concurrently (idle until driven); each pair's server starts before its client.
    await Promise.all(
      MODES.map(async (mode) => {
        const server = await Peer.start('server', mode, execArgvFor('server', mode));
        peers.push(server);
        const client = await Peer.start('client', mode, execArgvFor('client', mode));
        peers.push(client);
        await client.call({cmd: 'connect', address: server.address}, 15_000);
        pairs[mode] = {server, client};
        log(`${mode}: server pid ${server.child.pid} at ${server.address}, client pid ${client.child.pid} linked`);
      }),
    );

    for (const sp of p.sizes) {
      for (const mode of MODES) {
        const w = await throughputRun(pairs[mode], sp, sp.warmCount, 'warmup', p.timeLimitMs);
        throughputRuns.push(w);
      }
      for (let rep = 0; rep < p.reps; rep++) {
        // Rotate the order (raw first, then swarm first, then swarm-1 first, ...) so slow drift on the
        // machine hits every mode equally; with reps = 3 each mode takes each position once.
        const order: Mode[] = MODES.map((_, i) => MODES[(i + rep) % MODES.length]!);
        for (const mode of order) {
          const r = await throughputRun(pairs[mode], sp, sp.count, rep, p.timeLimitMs);
          throughputRuns.push(r);
          log(`${sp.label} pipelined ${mode} #${rep + 1}: ${fmtInt(r.msgsPerSec)} msg/s, ${r.mbPerSec} MB/s (${r.elapsedMs} ms)`);
        }
      }
      const lat = {size: sp.size} as {size: number} & Record<Mode, LatencyStats>;
      for (const mode of MODES) lat[mode] = await latencyRun(pairs[mode], sp, p.timeLimitMs);
      log(`${sp.label} req/resp p50: ${MODES.map((m) => `${m} ${lat[m].p50} µs`).join(', ')}`);
      latency.push(lat);
    }
  } finally {
    await Promise.all(peers.map((peer) => peer.stop()));
    process.removeListener('SIGINT', onSignal);
  }

  // ---- aggregate ----
  type Rate = {msgsPerSec: number; mbPerSec: number};
  const tpSummary = p.sizes.map((sp) => {
    const runs = (mode: Mode): ThroughputRun[] => throughputRuns.filter((r) => r.size === sp.size && r.mode === mode && r.rep !== 'warmup');
    const med = (mode: Mode): Rate => ({msgsPerSec: Math.round(median(runs(mode).map((r) => r.msgsPerSec))), mbPerSec: round(median(runs(mode).map((r) => r.mbPerSec)))});
    const rates = Object.fromEntries(MODES.map((m) => [m, med(m)])) as Record<Mode, Rate>;
    const ratio = {} as Record<SwarmMode, number>;
    const pairedRatios = {} as Record<SwarmMode, number[]>;
    for (const m of SWARM_MODES) {
      ratio[m] = round(rates[m].msgsPerSec / rates.raw.msgsPerSec, 3);
      // Same rep = same slot in time: pair each mode's run with that rep's raw run.
      pairedRatios[m] = runs('raw').map((r) => {
        const other = runs(m).find((x) => x.rep === r.rep);
        return other ? round(other.msgsPerSec / r.msgsPerSec, 3) : NaN;
      });
    }
    return {size: sp.size, label: sp.label, ...rates, ratio, pairedRatios};
  });
  const target1k = tpSummary.find((t) => t.size === 1024)!;
  const verdict = Object.fromEntries(SWARM_MODES.map((m) => [m, {ratio: target1k.ratio[m], pass: target1k.ratio[m] >= TARGET_RATIO}])) as Record<SwarmMode, {ratio: number; pass: boolean}>;
  const pass = verdict[TARGET_MODE].pass;
  const problems = throughputRuns.filter((r) => r.lost !== 0 || r.refused > 0 || r.asyncDrops > 0 || r.timedOut || Object.keys(r.serverDrops).length > 0);

  const withRatio = (n: number, raw: number): string => `${fmtInt(n)} (${fmtRatio(n / raw)})`;
  const tpHeader = ['pipelined', 'size', 'raw msgs/s', 'swarm msgs/s (ratio)', 'swarm-1 msgs/s (ratio)', 'raw MB/s', 'swarm MB/s', 'swarm-1 MB/s'];
  const tpRows = tpSummary.map((t) => [
    'pipelined',
    t.label,
    fmtInt(t.raw.msgsPerSec),
    ...SWARM_MODES.map((m) => withRatio(t[m].msgsPerSec, t.raw.msgsPerSec)),
    ...MODES.map((m) => t[m].mbPerSec.toFixed(1)),
  ]);
  const latHeader = ['req/resp', 'size', 'raw rt/s', 'swarm rt/s (ratio)', 'swarm-1 rt/s (ratio)', 'raw p50/p99 µs', 'swarm p50/p99 µs', 'swarm-1 p50/p99 µs'];
  const latRows = latency.map((l) => [
    'req/resp',
    p.sizes.find((sz) => sz.size === l.size)!.label,
    fmtInt(l.raw.roundTripsPerSec),
    ...SWARM_MODES.map((m) => withRatio(l[m].roundTripsPerSec, l.raw.roundTripsPerSec)),
    ...MODES.map((m) => fmtLat(l[m])),
  ]);
  const fmtVerdict = (m: SwarmMode): string => `${fmtRatio(verdict[m].ratio)} ${verdict[m].pass ? 'PASS' : 'FAIL'} (runs ${target1k.pairedRatios[m].map(fmtRatio).join(', ')})`;
  const lines: string[] = [];
  lines.push(`transport: raw zeromq DEALER->ROUTER vs Voyager (Noise XXpsk3 + AES-256-GCM), 127.0.0.1, separate processes${opts.quick ? ' [quick]' : ''}${opts.profile ? ' [PROFILED: numbers are slowed by --cpu-prof]' : ''}`);
  lines.push(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, libzmq ${zmq.version}`);
  lines.push('modes: raw = zeromq, no crypto; swarm = Voyager, same-tick envelopes coalesced into one AEAD frame (default); swarm-1 = Voyager, coalesce off: one AEAD frame per message');
  lines.push(`ratio = mode/raw; throughput = median of ${p.reps} runs, order rotated each run`);
  lines.push('');
  lines.push(table(tpHeader, tpRows, 2));
  lines.push('');
  lines.push(table(latHeader, latRows, 2));
  lines.push('(req/resp: one request in flight, rt/s = round trips per second; nothing to coalesce, so swarm ~ swarm-1)');
  lines.push('');
  lines.push(`target: ${TARGET_TEXT}: as shipped (swarm, coalescing) ${fmtVerdict('swarm')}; worst case, one AEAD per message (swarm-1) ${fmtVerdict('swarm-1')}`);
  if (problems.length > 0) {
    lines.push(`warning: ${problems.length} run(s) had drops, losses or timeouts; see "throughput.runs" in the JSON`);
  }

  // ---- where the time goes (only when it matters, or asked) ----
  let stages: {size: number; timings: StageTiming[]}[] | undefined;
  if (!pass || opts.profile) {
    stages = [
      {size: 1024, timings: stageTimings(1024, opts.quick ? 5000 : 20_000)},
      {size: 65536, timings: stageTimings(65536, opts.quick ? 300 : 1000)},
    ];
    lines.push('');
    lines.push('Voyager data path, per message, in-process stage timings (µs/op; real src functions, no sockets):');
    const stageRows = stages[0]!.timings.map((t, i) => [t.side, t.stage, t.usPerOp.toFixed(2), stages![1]!.timings[i]!.usPerOp.toFixed(1)]);
    for (const side of ['send', 'recv'] as const) {
      const sum = (k: number): number => stages![k]!.timings.filter((t) => t.side === side).reduce((a, t) => a + t.usPerOp, 0);
      stageRows.push([side, `sum of ${side} stages`, sum(0).toFixed(2), sum(1).toFixed(1)]);
    }
    // The stages are the per-message path (one frame per envelope), i.e. what swarm-1 runs on the wire.
    for (const t of tpSummary) {
      const i = t.size === 1024 ? 2 : 3;
      const m = TARGET_MODE;
      const row = ['wire', `measured µs/msg: raw ${(1e6 / t.raw.msgsPerSec).toFixed(2)}, ${m} ${(1e6 / t[m].msgsPerSec).toFixed(2)} (${t.label})`, '', ''];
      row[i] = (1e6 / t[m].msgsPerSec - 1e6 / t.raw.msgsPerSec).toFixed(i === 2 ? 2 : 1);
      stageRows.push(row);
    }
    lines.push(table(['side', 'stage', '1 KiB', '64 KiB'], stageRows, 2));
    lines.push(`(last rows: measured ${TARGET_MODE}-minus-raw cost per message; compare with the sums above)`);
  }
  let profiles: ProfileSummary[] | undefined;
  if (profileDir) {
    profiles = fs
      .readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .map((f) => summariseProfile(path.join(profileDir, f)));
    for (const prof of profiles) {
      lines.push('');
      lines.push(`cpu profile ${path.basename(prof.file)} (${prof.totalMs} ms sampled; % of non-idle time)`);
      lines.push('  areas: ' + prof.areas.slice(0, 9).map((a) => `${a.area} ${a.pct}%`).join(', '));
      for (const f of prof.top.slice(0, 8)) lines.push(`  ${String(f.pct).padStart(5)}%  ${f.fn}  ${f.where}`);
    }
    lines.push('');
    lines.push(`profiles kept in ${profileDir} (open in Chrome DevTools > Performance)`);
  } else if (!pass) {
    lines.push('hint: `node dist/bench/run.js transport --quick --profile` adds --cpu-prof summaries of both sides');
  }

  const finished = new Date();
  const data = {
    benchmark: 'transport',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    options: opts,
    machine: machineFacts({libzmq: zmq.version}),
    method: {
      transport: 'tcp://127.0.0.1, one forked process per endpoint (server and client), all modes driven by the same code',
      secureLink: 'Voyager modes: Noise_XXpsk3_25519_AESGCM_SHA256 link, AES-256-GCM data frames, msgpack envelopes, firewall admit',
      modes: MODE_TEXT,
      order: 'throughput reps rotate the mode order (rep r starts with modes[r % 3]); latency runs raw, swarm, swarm-1 in turn',
      throughput: 'send `count` messages; an echo round trip every `batch` messages, at most `window` outstanding; time until the last echo returns; delivered = receiver count',
      latency: 'one request in flight; echo of `size` bytes; warm-up round trips not recorded',
      mbPerSec: 'payload bytes (not wire bytes) / 1e6 per second',
      plan: p,
    },
    throughput: {summary: tpSummary, runs: throughputRuns},
    latency,
    target: {
      description: TARGET_TEXT,
      threshold: TARGET_RATIO,
      judgedOn: TARGET_MODE,
      ratio: verdict[TARGET_MODE].ratio,
      pass,
      byMode: Object.fromEntries(SWARM_MODES.map((m) => [m, {...verdict[m], pairedRatios: target1k.pairedRatios[m]}])),
    },
    ...(stages ? {stages} : {}),
    ...(profiles ? {profiles} : {}),
  };
  return {table: lines.join('\n'), data};
}
