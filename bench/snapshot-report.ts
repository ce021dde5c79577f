/** The snapshot benchmark's tables and summary figures (bench/snapshot.ts gathers the runs). */
import * as os from 'node:os';

import type {ProfileSummary} from './cpuprofile.js';
import {fmtInt, quantile, table} from './report.js';
import type {StepTimes} from './snapshot-baseline.js';
import type {NodeMemory} from './snapshot-resources.js';
import {CREATE_PHASES, RESTORE_PHASES} from './snapshot-phases.js';
import type {StateShape} from './snapshot-state.js';
import type {CliRound, SwarmRound} from './snapshot-swarm.js';

export interface SnapshotPlan {
  stateBytes: number;
  reps: number;
  parts: number;
  nodes: number;
  /** The least acceptable swarm/baseline MB/s ratio. */
  target: number;
}

export interface BaselineRound {
  create: StepTimes;
  restore: StepTimes;
}

export interface ReportInput {
  plan: SnapshotPlan;
  shape: StateShape;
  quick: boolean;
  profiled: boolean;
  creator: string;
  swarm: SwarmRound[];
  /** The warm-up round (memory only: its first large transfer is what raises RSS most). */
  warmupSwarm?: SwarmRound;
  baseline: BaselineRound[];
  cli?: CliRound;
  profiles?: ({node: string} & ProfileSummary)[];
  profileDir?: string;
}

const MiB = 1024 * 1024;
const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);
const fx = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '-');
const mib = (b: number): string => (Number.isFinite(b) ? (b / MiB).toFixed(0) : '-');
/** A file size as the shape was planned: whole MiB, else KiB. */
const size = (b: number): string => (b % MiB === 0 ? `${b / MiB} MiB` : `${b / 1024} KiB`);
const pct = (part: number, whole: number): string => (Number.isFinite(part) && whole > 0 ? `${Math.round((100 * part) / whole)}%` : '-');

type Op = 'create' | 'restore';

export function renderReport(r: ReportInput): {table: string; data: Record<string, unknown>} {
  const mbps = (ms: number): number => r.plan.stateBytes / 1e6 / (ms / 1000);
  const swarmMs = (op: Op): number[] => r.swarm.map((x) => x[op].ms);
  const baseMs = (op: Op): number[] => r.baseline.map((x) => x[op].total!);
  const summary = Object.fromEntries(
    (['create', 'restore'] as const).map((op) => {
      const s = median(swarmMs(op).map(mbps));
      const b = median(baseMs(op).map(mbps));
      const paired = swarmMs(op).map((ms, i) => baseMs(op)[i]! / ms);
      return [op, {swarmMBps: s, baselineMBps: b, ratio: s / b, pairedRatios: paired, swarmMs: median(swarmMs(op)), baselineMs: median(baseMs(op)), pass: s / b >= r.plan.target}];
    }),
  ) as Record<Op, {swarmMBps: number; baselineMBps: number; ratio: number; pairedRatios: number[]; swarmMs: number; baselineMs: number; pass: boolean}>;

  const lines: string[] = [];
  const sh = r.shape;
  lines.push(`snapshot: ${r.plan.nodes} swarm nodes on 127.0.0.1 (${r.plan.parts} parts, 2 copies each) vs tar + cp (2 copies), same disk${r.quick ? ' [quick]' : ''}${r.profiled ? ' [PROFILED: swarm slowed by --cpu-prof]' : ''}`);
  lines.push(`state: ${mib(r.plan.stateBytes)} MiB incompressible in ${sh.big.count + sh.medium.count + sh.small.count} files (${sh.big.count} x ${size(sh.big.bytes)}, ${sh.medium.count} x ${size(sh.medium.bytes)}, ${sh.small.count} x ${size(sh.small.bytes)}); median of ${r.swarm.length} round(s) after a warm-up round, sides alternating; MB/s = state bytes / 10^6 / s`);
  lines.push(`swarm timed through ${r.creator}'s control socket (no CLI start-up); both sides durable at the end (swarm fsyncs, baseline sync -f inside the clock)`);
  lines.push('');
  const row = (op: Op): string[] => {
    const s = summary[op];
    return [op, fx(s.swarmMBps, 1), fx(s.baselineMBps, 1), fx(s.ratio), fmtInt(s.swarmMs), fmtInt(s.baselineMs), s.pairedRatios.map((x) => fx(x)).join(' ')];
  };
  lines.push(table(['', 'swarm MB/s', 'tar+cp MB/s', 'swarm/tar+cp', 'swarm ms', 'tar+cp ms', 'per-round ratios'], [row('create'), row('restore')], 1));
  if (r.cli) {
    const c = r.cli;
    lines.push(
      `via the CLI (1 round, spawn to exit): create ${fx(mbps(c.createMs), 1)} MB/s (${fmtInt(c.createMs)} ms), restore ${fx(mbps(c.restoreMs), 1)} MB/s (${fmtInt(c.restoreMs)} ms); a trivial \`snapshot list\` takes ${fmtInt(c.listMs)} ms, the CLI's fixed cost per command`,
    );
  }

  // Where the time goes: swarm's phases (observed) and the baseline's steps, medians.
  const phaseRows = (op: Op, names: Record<string, string>): string[][] => {
    const total = summary[op].swarmMs;
    return Object.entries(names).map(([step, text]) => {
      const m = median(r.swarm.map((x) => x[op].phases[step] ?? NaN));
      return [`swarm ${op}`, text, fmtInt(m), pct(m, total)];
    });
  };
  const stepRows = (op: Op): string[][] => {
    const total = summary[op].baselineMs;
    const names = Object.keys(r.baseline[0]?.[op] ?? {}).filter((k) => k !== 'total');
    return names.map((n) => {
      const m = median(r.baseline.map((x) => x[op][n]!));
      return [`tar+cp ${op}`, n, fmtInt(m), pct(m, total)];
    });
  };
  lines.push('');
  lines.push('where the time goes (median ms; swarm: the steps the node timed, from snapshot.progress; tar+cp: timestamps between the commands):');
  lines.push(table(['', 'phase', 'ms', 'share'], [...phaseRows('create', CREATE_PHASES), ...stepRows('create'), ...phaseRows('restore', RESTORE_PHASES), ...stepRows('restore')], 2));

  // Memory, over every swarm round including the warm-up: per node, its RSS before the first
  // operation ever, the highest peak of each operation, the largest rise within one operation
  // (peak - RSS at its start), and what it keeps afterwards.
  const all = r.warmupSwarm ? [r.warmupSwarm, ...r.swarm] : r.swarm;
  const names = all[0]?.create.memory.map((m) => m.name) ?? [];
  const payload = Math.max(...all.map((x) => x.payloadBytes));
  const memOf = (op: Op, name: string): NodeMemory[] => all.map((x) => x[op].memory.find((m) => m.name === name)!);
  const memory = Object.fromEntries(
    names.map((n) => {
      const rise = (op: Op): number => Math.max(...memOf(op, n).map((m) => m.peakBytes - m.beforeBytes));
      const peak = (op: Op): number => Math.max(...memOf(op, n).map((m) => m.peakBytes));
      const last = r.swarm[r.swarm.length - 1]!.restore.memory.find((m) => m.name === n)!;
      return [n, {role: n === r.creator ? 'creator' : 'holder', idleBytes: memOf('create', n)[0]!.beforeBytes, peakCreateBytes: peak('create'), peakRestoreBytes: peak('restore'), riseCreateBytes: rise('create'), riseRestoreBytes: rise('restore'), afterLastBytes: last.afterBytes, peakFrom: last.peakFrom}];
    }),
  );
  const memRows = names.map((n) => {
    const x = memory[n]!;
    return [n, x.role === 'creator' ? 'creates + restores' : 'holds parts', mib(x.idleBytes), mib(x.peakCreateBytes), mib(x.peakRestoreBytes), `${mib(Math.max(x.riseCreateBytes, x.riseRestoreBytes))} (${pct(Math.max(x.riseCreateBytes, x.riseRestoreBytes), payload)})`, mib(x.afterLastBytes)];
  });
  lines.push('');
  lines.push(`RSS per node in MiB (peak = VmHWM, reset before each operation; highest over all rounds, warm-up included) vs the ${mib(payload)} MiB payload:`);
  lines.push(table(['node', 'role', 'idle (first op)', 'peak create', 'peak restore', 'max rise in one op (/ payload)', 'after last op'], memRows, 2));

  // CPU and responsiveness: is an operation bound by the CPU, and does it stall the node's loop?
  const cpuRows = (['create', 'restore'] as const).map((op) => {
    const wall = summary[op].swarmMs / 1000;
    const worker = median(r.swarm.map((x) => x[op].memory.find((m) => m.name === r.creator)!.cpuSec));
    const holders = median(r.swarm.map((x) => x[op].memory.filter((m) => m.name !== r.creator).reduce((a, m) => a + m.cpuSec, 0)));
    const stall = Math.max(...r.swarm.map((x) => x[op].maxStallMs));
    return [op, fx(wall), `${fx(worker)} (${pct(worker, wall)})`, fx(holders), fmtInt(stall)];
  });
  lines.push('');
  lines.push(`cpu and stalls (medians; ${r.creator}'s % = of its one JS thread over the wall time; stall = slowest answer to a \`status\` call polled every 100 ms, worst round):`);
  lines.push(table(['', 'wall s', `${r.creator} cpu s`, 'holders cpu s', `${r.creator} stall ms`], cpuRows, 1));

  // Observations computed from the numbers above.
  const obs: string[] = [];
  const biggest = (op: Op, names: Record<string, string>): string => {
    const [step, ms] = Object.keys(names)
      .map((k): [string, number] => [k, median(r.swarm.map((x) => x[op].phases[k] ?? NaN))])
      .filter(([, v]) => Number.isFinite(v))
      .sort((a, b) => b[1] - a[1])[0] ?? ['', NaN];
    return `${names[step] ?? '-'} ${pct(ms, summary[op].swarmMs)}`;
  };
  for (const op of ['create', 'restore'] as const) {
    const cpu = median(r.swarm.map((x) => x[op].memory.reduce((a, m) => a + m.cpuSec, 0)));
    const wall = summary[op].swarmMs / 1000;
    obs.push(`swarm ${op}: largest step ${biggest(op, op === 'create' ? CREATE_PHASES : RESTORE_PHASES)}; the 4 nodes used ${fx(cpu, 1)} CPU-s in ${fx(wall, 1)} s (${fx(cpu / wall, 1)} cores busy of ${os.cpus().length})`);
  }
  const cre = memory[r.creator];
  if (cre) obs.push(`${r.creator}'s RSS rose at most ${mib(Math.max(cre.riseCreateBytes, cre.riseRestoreBytes))} MiB within one operation for a ${mib(payload)} MiB payload (holders: at most ${mib(Math.max(...names.filter((n) => n !== r.creator).map((n) => Math.max(memory[n]!.riseCreateBytes, memory[n]!.riseRestoreBytes))))} MiB)`);
  obs.push(`${r.creator}'s control socket went unanswered for up to ${fmtInt(Math.max(...r.swarm.map((x) => x.restore.maxStallMs)))} ms during a restore and ${fmtInt(Math.max(...r.swarm.map((x) => x.create.maxStallMs)))} ms during a create (heartbeats wait as long; peers suspect a member after 3 s of silence by default)`);
  lines.push('');
  for (const o of obs) lines.push(`- ${o}`);

  if (r.profiles) {
    for (const prof of r.profiles) {
      lines.push('');
      lines.push(`cpu profile swarm ${prof.node}${prof.node === r.creator ? ' (creates + restores)' : ''}: ${fmtInt(prof.totalMs)} ms sampled (whole run); top self time, % of non-idle:`);
      lines.push('  ' + prof.top.slice(0, 8).map((t) => `${t.fn} (${t.where}) ${t.pct}%`).join(', '));
    }
    lines.push(`profiles kept in ${r.profileDir}`);
  }

  lines.push('');
  const verdict = (op: Op): string => `${op} ${summary[op].pass ? 'PASS' : 'FAIL'} (${fx(summary[op].ratio)})`;
  lines.push(`swarm/tar+cp MB/s >= ${r.plan.target} for create and restore: ${verdict('create')}, ${verdict('restore')}`);
  lines.push('(report only; restored trees were checked byte-identical by sha256 for both sides, every round)');

  return {
    table: lines.join('\n'),
    data: {
      summary,
      memory,
      phases: {
        swarmCreate: Object.fromEntries(Object.keys(CREATE_PHASES).map((n) => [n, median(r.swarm.map((x) => x.create.phases[n] ?? NaN))])),
        swarmRestore: Object.fromEntries(Object.keys(RESTORE_PHASES).map((n) => [n, median(r.swarm.map((x) => x.restore.phases[n] ?? NaN))])),
      },
      target: {description: `swarm/tar+cp MB/s >= ${r.plan.target} for create and restore`, create: summary.create.ratio, restore: summary.restore.ratio, pass: summary.create.pass && summary.restore.pass},
    },
  };
}
