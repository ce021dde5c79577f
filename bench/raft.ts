/**
 * Raft benchmark: a 3-node swarm cluster (real `bin/run.js node start` processes, Raft WAL with fsync)
 * vs a 3-node etcd cluster (Debian's etcd 3.4, fsync on), side by side in one run on 127.0.0.1.
 * Both are driven by the same load code (bench/raft-load.ts): sequential put latency, then throughput
 * with 1 and with 32 concurrent clients (each a sequential loop; fixed time after a warm-up), always
 * putting to the leader. Around every phase it samples each node's CPU (/proc) and fsyncs (swarm: a
 * preloaded probe, bench/raft-probe.ts; etcd: its /metrics), so the report says where the time goes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {performance} from 'node:perf_hooks';

import type {BenchOptions, BenchOutput} from './run.js';
import {benchScratch, ensureEtcd, Procs, sleep, startEtcd, startSwarm} from './raft-clusters.js';
import type {Cluster, NodeSample, PutClient} from './raft-clusters.js';
import {round, sequential, throughput, VALUE_BYTES} from './raft-load.js';
import type {LatencyStats, SequentialResult, ThroughputResult} from './raft-load.js';
import {machineFacts} from './machine.js';
import {fmtInt, table} from './report.js';

type System = 'swarm' | 'etcd';
const SWARM_TICK = '50ms';
const CONCURRENCY = 32;
const TARGET_TEXT = `swarm throughput with ${CONCURRENCY} clients >= etcd's`;

interface Plan {
  latencyCount: number;
  latencyWarmup: number;
  latencyTimeLimitMs: number;
  warmupMs: number;
  durationMs: number;
  reps: number;
  idleMs: number;
  concurrency: number;
  valueBytes: number;
}

function plan(quick: boolean): Plan {
  return quick
    ? {latencyCount: 300, latencyWarmup: 30, latencyTimeLimitMs: 3000, warmupMs: 500, durationMs: 2000, reps: 1, idleMs: 1000, concurrency: CONCURRENCY, valueBytes: VALUE_BYTES}
    : {latencyCount: 1500, latencyWarmup: 100, latencyTimeLimitMs: 8000, warmupMs: 1000, durationMs: 5000, reps: 2, idleMs: 2000, concurrency: CONCURRENCY, valueBytes: VALUE_BYTES};
}

// ---- resource accounting around a phase ----------------------------------------------------------------

interface NodeCost {
  name: string;
  leader: boolean;
  cpuSec: number;
  /** % of one core over the phase's wall time */
  cpuPct: number;
  fsyncs: number;
  fsyncMs: number;
  /** swarm: event-loop busy % (from eventLoopUtilization); etcd: backend (bbolt) commits */
  loopBusyPct?: number;
  backendCommits?: number;
}

interface PhaseCost {
  wallMs: number;
  puts: number;
  nodes: NodeCost[];
  clientCpuSec: number;
  /** derived, per acknowledged put */
  perPut: {leaderFsyncs: number; followerFsyncs: number; leaderFsyncMs: number; leaderCpuMs: number; followersCpuMs: number; clusterCpuMs: number; clientCpuMs: number};
}

function diff(before: NodeSample[], after: NodeSample[], wallMs: number, puts: number, clientCpuSec: number): PhaseCost {
  const nodes: NodeCost[] = after.map((a, i) => {
    const b = before[i]!;
    const fsyncs = a.fsyncs !== undefined ? a.fsyncs - b.fsyncs! : a.walFsyncs! - b.walFsyncs!;
    const fsyncMs = a.fsyncMs !== undefined ? a.fsyncMs - b.fsyncMs! : (a.walFsyncSec! - b.walFsyncSec!) * 1000;
    const cpuSec = a.cpuSec - b.cpuSec;
    return {
      name: a.name,
      leader: a.leader,
      cpuSec: round(cpuSec, 3),
      cpuPct: round((100 * cpuSec * 1000) / wallMs, 1),
      fsyncs,
      fsyncMs: round(fsyncMs, 1),
      ...(a.loopActiveMs !== undefined ? {loopBusyPct: round((100 * (a.loopActiveMs - b.loopActiveMs!)) / wallMs, 1)} : {}),
      ...(a.backendCommits !== undefined ? {backendCommits: a.backendCommits - b.backendCommits!} : {}),
    };
  });
  const leader = nodes.find((n) => n.leader)!;
  const followers = nodes.filter((n) => !n.leader);
  const per = (x: number): number => round(x / Math.max(1, puts), 3);
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    wallMs: round(wallMs, 1),
    puts,
    nodes,
    clientCpuSec: round(clientCpuSec, 3),
    perPut: {
      leaderFsyncs: per(leader.fsyncs),
      followerFsyncs: per(avg(followers.map((f) => f.fsyncs))),
      leaderFsyncMs: per(leader.fsyncMs),
      leaderCpuMs: per(leader.cpuSec * 1000),
      followersCpuMs: per(followers.reduce((a, f) => a + f.cpuSec, 0) * 1000),
      clusterCpuMs: per(nodes.reduce((a, n) => a + n.cpuSec, 0) * 1000),
      clientCpuMs: per(clientCpuSec * 1000),
    },
  };
}

async function measured<T extends {puts?: number; totalPuts?: number; samplesMs?: number[]; warmup?: number}>(cluster: Cluster, fn: () => Promise<T>): Promise<{result: T; cost: PhaseCost}> {
  const before = await cluster.sample();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = await cluster.sample();
  const puts = result.totalPuts ?? (result.samplesMs?.length ?? 0) + (result.warmup ?? 0);
  return {result, cost: diff(before, after, wallMs, puts, (cpu.user + cpu.system) / 1e6)};
}

// ---- output helpers ------------------------------------------------------------------------------------

const fmtMs = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '-');
const fmtX = (n: number | undefined, digits = 2): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '-');
const ratio = (a: number | undefined, b: number | undefined): number => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Inclusive time of a few swarm code paths, matched on the profile's frames (function@file). */
const BUCKETS: [string, RegExp][] = [
  ['WAL write+fsync (FileStorage.writeRecords)', /^writeRecords@.*wal\/file-storage\.js/],
  ['zeromq send (SocketSender.pump)', /^pump@.*transport\/socket-sender\.js/],
  ['transport receive (Voyager.onData)', /^onData@.*transport\/voyager\.js/],
  ['control socket (ControlServer.answer)', /^answer@.*node\/control-server\.js/],
  ['raft core (RawNode step/ready/propose)', /^(step|ready|propose|tick)@.*raft\/raw-node\.js/],
  ['apply to kv (RaftDriver.apply)', /^apply@.*raft\/driver\.js/],
  ['GC', /^\(garbage collector\)@/],
];

interface ProfileDigest {
  busyMs: number;
  /** Inclusive % of non-idle time per code path. */
  paths: {path: string; pct: number}[];
  /** Self time, % of non-idle. */
  top: {fn: string; pct: number}[];
}

/** Digest of a V8 .cpuprofile: inclusive time per code path and the top functions by self time. */
function digestProfile(file: string, topN = 6): ProfileDigest {
  type Node = {id: number; callFrame: {functionName: string; url: string; lineNumber: number}; children?: number[]};
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as {nodes: Node[]; samples: number[]; timeDeltas: number[]};
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'}@${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '')}`;
  const self = new Map<string, number>();
  const incl = BUCKETS.map(() => 0);
  let busy = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const n = byId.get(prof.samples[i]!);
    if (!n || n.callFrame.functionName === '(idle)') continue;
    const dt = prof.timeDeltas[i] ?? 0;
    busy += dt;
    const k = `${key(n)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    self.set(k, (self.get(k) ?? 0) + dt);
    const hit = BUCKETS.map(() => false);
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const fk = key(byId.get(id)!);
      BUCKETS.forEach(([, re], b) => {
        if (re.test(fk)) hit[b] = true;
      });
    }
    hit.forEach((h, b) => {
      if (h) incl[b]! += dt;
    });
  }
  const pct = (us: number): number => round((100 * us) / Math.max(1, busy), 1);
  return {
    busyMs: Math.round(busy / 1000),
    paths: BUCKETS.map(([name], b) => ({path: name, pct: pct(incl[b]!)})),
    top: [...self].sort((x, y) => y[1] - x[1]).slice(0, topN).map(([fn, us]) => ({fn, pct: pct(us)})),
  };
}

const mkdir = (d: string): string => {
  fs.mkdirSync(d, {recursive: true, mode: 0o700});
  return d;
};

// ---- the benchmark -------------------------------------------------------------------------------------

interface SystemRuns {
  sequential?: {result: SequentialResult; cost: PhaseCost};
  tp1: {rep: number; result: ThroughputResult; cost: PhaseCost}[];
  tpN: {rep: number; result: ThroughputResult; cost: PhaseCost}[];
}

export async function runRaft(opts: BenchOptions): Promise<BenchOutput> {
  const p = plan(opts.quick);
  const started = new Date();
  const log = (msg: string): void => void process.stderr.write(`[raft] ${msg}\n`);
  const procs = new Procs();
  const {dir, profileDir, release} = benchScratch('raft', procs, opts.profile);

  const clusters: Partial<Record<System, Cluster>> = {};
  const clients: Partial<Record<System, PutClient[]>> = {};
  const runs: Record<System, SystemRuns> = {swarm: {tp1: [], tpN: []}, etcd: {tp1: [], tpN: []}};
  let etcdInfo: {bin?: string; version?: string; why?: string} = {};
  const describe: Partial<Record<System, Record<string, unknown>>> = {};
  const idle: Partial<Record<System, PhaseCost>> = {};
  try {
    etcdInfo = await ensureEtcd(log);
    if (!etcdInfo.bin) log(`etcd will not run: ${etcdInfo.why}; reporting swarm alone`);
    log(`starting 3 swarm nodes${etcdInfo.bin ? ` and 3 etcd ${etcdInfo.version} nodes` : ''} in ${dir}`);
    const [sw, et] = await Promise.all([
      startSwarm(procs, mkdir(path.join(dir, 'swarm')), {tick: SWARM_TICK, ...(profileDir ? {profileDir} : {}), log}),
      etcdInfo.bin ? startEtcd(procs, mkdir(path.join(dir, 'etcd')), etcdInfo.bin, log) : Promise.resolve(undefined),
    ]);
    clusters.swarm = sw;
    if (et) clusters.etcd = et;
    const systems = (Object.keys(clusters) as System[]).sort((a) => (a === 'swarm' ? -1 : 1));
    for (const s of systems) {
      clients[s] = await Promise.all(Array.from({length: p.concurrency}, () => clusters[s]!.client()));
      describe[s] = clusters[s]!.describe();
    }

    // 0. idle: the fixed cost of each cluster (ticks, heartbeats, failure detector) with no load
    await Promise.all(
      systems.map(async (s) => {
        idle[s] = (await measured(clusters[s]!, () => sleep(p.idleMs).then(() => ({totalPuts: 0})))).cost;
      }),
    );
    log(`idle cpu % of a core: ${systems.map((s) => `${s} ${idle[s]!.nodes.map((n) => n.cpuPct).join('/')}`).join(', ')}`);
    // 1. sequential latency (one client)
    for (const s of systems) {
      const r = await measured(clusters[s]!, () => sequential(clients[s]![0]!, p.latencyCount, p.latencyWarmup, p.latencyTimeLimitMs));
      runs[s].sequential = r;
      log(`${s} sequential: ${r.result.stats.n} puts, p50 ${fmtMs(r.result.stats.p50)} ms, p99 ${fmtMs(r.result.stats.p99)} ms${r.result.errors ? `, ${r.result.errors} errors` : ''}`);
    }
    // 2. throughput, 1 and N clients; the order of the systems alternates each rep
    for (let rep = 0; rep < p.reps; rep++) {
      const order = rep % 2 === 0 ? systems : [...systems].reverse();
      for (const n of [1, p.concurrency]) {
        for (const s of order) {
          const r = await measured(clusters[s]!, () => throughput(clients[s]!.slice(0, n), p.warmupMs, p.durationMs));
          (n === 1 ? runs[s].tp1 : runs[s].tpN).push({rep, ...r});
          log(`${s} ${n} client(s) #${rep + 1}: ${fmtInt(r.result.putsPerSec)} puts/s, p50 ${fmtMs(r.result.stats.p50)} ms, p99 ${fmtMs(r.result.stats.p99)} ms${r.result.errors ? `, ${r.result.errors} errors` : ''}`);
        }
      }
    }
  } finally {
    for (const cs of Object.values(clients)) await Promise.all(cs.map((c) => c.close().catch(() => undefined)));
    await release(3000);
  }

  // ---- aggregate ----
  const systems = Object.keys(clusters) as System[];
  const summary = Object.fromEntries(
    systems.map((s) => {
      const r = runs[s];
      return [
        s,
        {
          sequential: r.sequential?.result.stats,
          throughput1: mean(r.tp1.map((x) => x.result.putsPerSec)),
          throughputN: mean(r.tpN.map((x) => x.result.putsPerSec)),
          latencyN: {p50: mean(r.tpN.map((x) => x.result.stats.p50)), p99: mean(r.tpN.map((x) => x.result.stats.p99))},
        },
      ];
    }),
  ) as Partial<Record<System, {sequential?: LatencyStats; throughput1: number; throughputN: number; latencyN: {p50: number; p99: number}}>>;
  const sw = summary.swarm!;
  const et = summary.etcd;
  const ratios = {
    sequentialP50: round(ratio(sw.sequential?.p50, et?.sequential?.p50)),
    sequentialP99: round(ratio(sw.sequential?.p99, et?.sequential?.p99)),
    throughput1: round(ratio(sw.throughput1, et?.throughput1)),
    throughputN: round(ratio(sw.throughputN, et?.throughputN)),
    latencyNP50: round(ratio(sw.latencyN.p50, et?.latencyN.p50)),
  };
  const pass = et ? sw.throughputN >= et.throughputN : undefined;

  const lines: string[] = [];
  lines.push(`raft: 3-node swarm (node processes, Raft WAL fsync, --raft-tick ${SWARM_TICK}) vs 3-node etcd ${etcdInfo.version ?? '(not run)'} (fsync on), 127.0.0.1${opts.quick ? ' [quick]' : ''}${opts.profile ? ' [PROFILED: swarm slowed by --cpu-prof]' : ''}`);
  lines.push(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}; puts of ${p.valueBytes} B values to the leader; throughput = mean of ${p.reps} run(s) of ${p.durationMs / 1000} s after ${p.warmupMs / 1000} s warm-up`);
  if (!et) lines.push(`etcd not run: ${etcdInfo.why ?? 'unknown reason'}`);
  lines.push('');
  const rows: string[][] = [
    ['sequential put p50 (ms)', fmtMs(sw.sequential?.p50), fmtMs(et?.sequential?.p50), fmtX(ratios.sequentialP50)],
    ['sequential put p99 (ms)', fmtMs(sw.sequential?.p99), fmtMs(et?.sequential?.p99), fmtX(ratios.sequentialP99)],
    ['throughput, 1 client (puts/s)', fmtInt(sw.throughput1), fmtInt(et?.throughput1), fmtX(ratios.throughput1)],
    [`throughput, ${p.concurrency} clients (puts/s)`, fmtInt(sw.throughputN), fmtInt(et?.throughputN), fmtX(ratios.throughputN)],
    [`${p.concurrency} clients: put p50 / p99 (ms)`, `${fmtMs(sw.latencyN.p50)} / ${fmtMs(sw.latencyN.p99)}`, et ? `${fmtMs(et.latencyN.p50)} / ${fmtMs(et.latencyN.p99)}` : '-', fmtX(ratios.latencyNP50)],
  ];
  lines.push(table(['', 'swarm', 'etcd', 'swarm/etcd'], rows, 1));
  lines.push('(latency rows: ratio > 1 = swarm slower; throughput rows: ratio < 1 = swarm slower; last row: ratio of p50)');

  // Where the time goes: per put, over each whole phase (warm-up included), from each node's counters.
  const costRows: string[][] = [];
  const phaseCosts: {system: System; phase: string; cost: PhaseCost}[] = [];
  for (const s of systems) {
    const r = runs[s];
    if (r.sequential) phaseCosts.push({system: s, phase: 'sequential', cost: r.sequential.cost});
    for (const x of r.tp1) phaseCosts.push({system: s, phase: `1 client #${x.rep + 1}`, cost: x.cost});
    for (const x of r.tpN) phaseCosts.push({system: s, phase: `${p.concurrency} clients #${x.rep + 1}`, cost: x.cost});
  }
  for (const {system, phase, cost} of phaseCosts) {
    const leader = cost.nodes.find((n) => n.leader)!;
    costRows.push([
      system,
      phase,
      fmtInt(cost.puts),
      fmtX(cost.perPut.leaderFsyncs),
      fmtX(cost.perPut.followerFsyncs),
      fmtX(cost.perPut.leaderFsyncMs, 3),
      fmtX(cost.perPut.leaderCpuMs, 3),
      fmtX(cost.perPut.followersCpuMs, 3),
      fmtX(cost.perPut.clientCpuMs, 3),
      `${fmtX(leader.cpuPct, 0)}%`,
      leader.loopBusyPct !== undefined ? `${fmtX(leader.loopBusyPct, 0)}%` : '-',
      `${fmtX((100 * leader.fsyncMs) / cost.wallMs, 0)}%`,
    ]);
  }
  lines.push('');
  lines.push('where the time goes, per acknowledged put (whole phase incl. warm-up; fsyncs: swarm = every fsync/fdatasync of the node (probe), etcd = WAL fsyncs (/metrics)):');
  lines.push(
    table(
      ['system', 'phase', 'puts', 'leader fsyncs', 'follower fsyncs', 'leader fsync ms', 'leader cpu ms', 'followers cpu ms', 'client cpu ms', 'leader cpu', 'leader loop busy', 'leader in fsync'],
      costRows,
      2,
    ),
  );
  lines.push('(cpu % = of one core over the phase; "loop busy" = swarm leader event-loop utilisation; "in fsync" = leader wall time inside fsync:');
  lines.push(' on swarm that blocks the only JS thread (fsyncSync), on etcd it is a WAL goroutine running beside the rest)');

  // Observations computed from the numbers.
  const obs: string[] = [];
  const last = (s: System): PhaseCost | undefined => runs[s].tpN[runs[s].tpN.length - 1]?.cost;
  const swSeq = runs.swarm.sequential?.cost;
  const etSeq = runs.etcd.sequential?.cost;
  if (swSeq) {
    const l = swSeq.nodes.find((n) => n.leader)!;
    const perFsync = l.fsyncMs / Math.max(1, l.fsyncs);
    obs.push(
      `swarm, 1 client: ${fmtX(swSeq.perPut.leaderFsyncs)} fsyncs/put on the leader and ${fmtX(swSeq.perPut.followerFsyncs)} on each follower` +
        (etSeq ? ` (etcd: ${fmtX(etSeq.perPut.leaderFsyncs)} / ${fmtX(etSeq.perPut.followerFsyncs)})` : '') +
        `: each Ready's entries and hard state go to the WAL in one write and one fsync; a commit-only change is not synced (as etcd's MustSync)`,
    );
    obs.push(
      `swarm sequential put: the driver persists before it sends (leader append fsync -> append msg -> follower append fsync -> ack -> leader commit -> apply), so 2 fsyncs are serial on the critical path; measured ${fmtX(perFsync)} ms per fsync on the leader (machine's fsync under this load); p50 ${fmtMs(runs.swarm.sequential?.result.stats.p50)} ms`,
    );
  }
  const swN = last('swarm');
  if (swN) {
    const leader = swN.nodes.find((n) => n.leader)!;
    obs.push(
      `swarm leader at ${p.concurrency} clients: ${fmtX(swN.perPut.leaderFsyncs)} fsyncs/put (${fmtX(1 / swN.perPut.leaderFsyncs, 1)} puts per fsync), cpu ${fmtX(leader.cpuPct, 0)}% of a core, event loop busy ${fmtX(leader.loopBusyPct, 0)}%, of which fsync ${fmtX((100 * leader.fsyncMs) / swN.wallMs, 0)}% of wall time (fsyncSync blocks the loop)`,
    );
    const clusterCpuPct = swN.nodes.reduce((a, n) => a + n.cpuPct, 0) + (100 * swN.clientCpuSec * 1000) / swN.wallMs;
    obs.push(`swarm cpu per put: leader ${fmtX(swN.perPut.leaderCpuMs, 3)} ms, followers ${fmtX(swN.perPut.followersCpuMs, 3)} ms, client ${fmtX(swN.perPut.clientCpuMs, 3)} ms; all processes together ${fmtX(clusterCpuPct, 0)}% of one core (machine: ${os.cpus().length} cores)`);
  }
  const etN = last('etcd');
  if (etN) {
    const leader = etN.nodes.find((n) => n.leader)!;
    const clusterCpuPct = etN.nodes.reduce((a, n) => a + n.cpuPct, 0) + (100 * etN.clientCpuSec * 1000) / etN.wallMs;
    obs.push(
      `etcd leader at ${p.concurrency} clients: ${fmtX(etN.perPut.leaderFsyncs)} WAL fsyncs/put (${fmtX(1 / etN.perPut.leaderFsyncs, 1)} puts per fsync), cpu ${fmtX(leader.cpuPct, 0)}% of a core; cpu per put: leader ${fmtX(etN.perPut.leaderCpuMs, 3)} ms, followers ${fmtX(etN.perPut.followersCpuMs, 3)} ms, client ${fmtX(etN.perPut.clientCpuMs, 3)} ms; all processes ${fmtX(clusterCpuPct, 0)}% of one core`,
    );
  }
  const idleText = systems.map((s) => `${s} ${idle[s] ? idle[s]!.nodes.map((n) => `${n.name}${n.leader ? '*' : ''} ${fmtX(n.cpuPct, 1)}%`).join(', ') : '-'}`).join('; ');
  obs.push(`idle (no load, ${p.idleMs / 1000} s) cpu of a core per node (* = leader): ${idleText}`);
  if (obs.length) {
    lines.push('');
    for (const o of obs) lines.push(`- ${o}`);
  }

  // Optional CPU profiles of the swarm nodes.
  let profiles: ({node: string; file: string} & ProfileDigest)[] | undefined;
  if (profileDir) {
    profiles = fs
      .readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .map((f) => ({node: f.replace(/^swarm-|\.cpuprofile$/g, ''), file: path.join(profileDir, f), ...digestProfile(path.join(profileDir, f))}));
    for (const prof of profiles) {
      lines.push('');
      lines.push(`cpu profile swarm ${prof.node}${prof.node === clusters.swarm?.leaderName ? ' (leader)' : ''}: ${prof.busyMs} ms on the main thread (whole run incl. start-up; % of that, fsync counts as busy)`);
      lines.push('  paths (inclusive): ' + prof.paths.map((b) => `${b.path} ${b.pct}%`).join(', '));
      lines.push('  top self: ' + prof.top.map((t) => `${t.fn} ${t.pct}%`).join(', '));
    }
    lines.push(`profiles kept in ${profileDir} (open in Chrome DevTools > Performance)`);
  } else if (pass === false) {
    lines.push('hint: `node dist/bench/run.js raft --quick --profile` adds --cpu-prof summaries of the swarm nodes');
  }

  lines.push('');
  lines.push(
    et
      ? `${TARGET_TEXT}: ${pass ? 'PASS' : 'FAIL'} (ratio ${fmtX(ratios.throughputN)})`
      : `${TARGET_TEXT}: n/a (etcd not run: ${etcdInfo.why ?? 'unknown'})`,
  );
  if (et) lines.push(`(report only; per-run ratios at ${p.concurrency} clients: ${runs.swarm.tpN.map((x, i) => fmtX(ratio(x.result.putsPerSec, runs.etcd.tpN[i]?.result.putsPerSec))).join(', ')})`);
  const errors = systems.flatMap((s) => [runs[s].sequential?.result.errors ?? 0, ...runs[s].tp1.map((x) => x.result.errors), ...runs[s].tpN.map((x) => x.result.errors)]).reduce((a, b) => a + b, 0);
  if (errors > 0) lines.push(`warning: ${errors} put(s) failed; see the JSON (errors per phase)`);

  const finished = new Date();
  const data = {
    benchmark: 'raft',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    options: opts,
    machine: machineFacts({etcd: etcdInfo.version ?? null}),
    method: {
      where: '127.0.0.1; both clusters run for the whole benchmark, only one is driven at a time',
      swarm: describe.swarm ?? null,
      etcd: describe.etcd ?? {notRun: etcdInfo.why},
      load: `one driver process (this one); values of ${p.valueBytes} B; each client overwrites its own 100 keys round-robin; every put goes to the leader and resolves once applied there`,
      sequential: 'one client, warm-up puts, then up to latencyCount puts (stops at latencyTimeLimitMs); per-put latency',
      throughput: 'N clients, each a sequential loop; only puts acknowledged inside [warm-up end, warm-up end + duration] count; no put starts after the window',
      order: 'sequential: swarm then etcd; throughput: 1 client then N clients per rep, system order alternating per rep',
      costs: 'per phase (warm-up included): node CPU from /proc/<pid>/stat; swarm fsyncs from a preloaded probe wrapping fs.fsyncSync/fdatasyncSync (bench/raft-probe.ts); etcd WAL fsyncs from /metrics etcd_disk_wal_fsync_duration_seconds',
      plan: p,
    },
    summary,
    ratios,
    idle,
    runs,
    target: {description: TARGET_TEXT, ratio: ratios.throughputN, pass: pass ?? null},
    ...(profiles ? {profiles} : {}),
  };
  return {table: lines.join('\n'), data};
}
