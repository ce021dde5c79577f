/**
 * Scheduler half of the fleet bench: placements per second of the pure `schedule()` (best fit, reasons
 * for what stays pending) against a naive first-fit written here, on the same seeded input, in the same
 * process, alternating, median of several repetitions after a warm-up of each.
 */
import {performance} from 'node:perf_hooks';

import {byPriority, schedule} from '../src/core/fleet/scheduler.js';
import type {NodeOffer, PendingTask, Resources, Schedule} from '../src/core/fleet/scheduler.js';
import {quantile} from './report.js';
import {workload} from './fleet-workload.js';
import type {Workload} from './fleet-workload.js';

export type Placer = 'schedule' | 'first-fit';
export const PLACERS: Placer[] = ['schedule', 'first-fit'];

/**
 * The baseline: same task order (priority, then submission), each task on the first node in list order
 * that has the labels and the room; plain loops, no scoring, a fixed reason for what does not fit.
 */
export function firstFit(tasks: readonly PendingTask[], nodes: readonly NodeOffer[]): Schedule {
  const free: Resources[] = nodes.map((n) => ({...n.free}));
  const placements: Schedule['placements'] = [];
  const pending: Schedule['pending'] = [];
  for (const t of [...tasks].sort(byPriority)) {
    const need = t.requires;
    let placed = -1;
    for (let i = 0; i < nodes.length && placed < 0; i++) {
      const n = nodes[i]!;
      const f = free[i]!;
      if (t.node !== undefined && n.id !== t.node) continue;
      if (need.cores > f.cores || need.memoryBytes > f.memoryBytes || need.gpus > f.gpus) continue;
      let labelsOk = true;
      for (const k in need.labels) if (n.labels[k] !== need.labels[k]) labelsOk = false;
      if (labelsOk) placed = i;
    }
    if (placed < 0) {
      pending.push({task: t.id, reason: 'no node fits'});
      continue;
    }
    const f = free[placed]!;
    f.cores -= need.cores;
    f.memoryBytes -= need.memoryBytes;
    f.gpus -= need.gpus;
    placements.push({task: t.id, node: nodes[placed]!.id});
  }
  return {placements, pending};
}

const PLACE: Record<Placer, (tasks: readonly PendingTask[], nodes: readonly NodeOffer[]) => Schedule> = {
  schedule,
  'first-fit': firstFit,
};

/** An over-committed node, a task placed twice, or a placement that breaks a label or pin: the first problem found. */
export function checkSchedule(w: Workload, s: Schedule): string | undefined {
  const tasks = new Map(w.tasks.map((t) => [t.id, t]));
  const nodes = new Map(w.nodes.map((n) => [n.id, {...n, free: {...n.free}}]));
  const seen = new Set<string>();
  for (const p of s.placements) {
    const t = tasks.get(p.task);
    const n = nodes.get(p.node);
    if (!t || !n) return `unknown task or node in ${p.task} -> ${p.node}`;
    if (seen.has(p.task)) return `${p.task} placed twice`;
    seen.add(p.task);
    if (t.node !== undefined && t.node !== n.id) return `${p.task} is pinned to ${t.node}, placed on ${n.id}`;
    for (const [k, v] of Object.entries(t.requires.labels)) if (n.labels[k] !== v) return `${p.task} needs ${k}=${v}, ${n.id} lacks it`;
    n.free.cores -= t.requires.cores;
    n.free.memoryBytes -= t.requires.memoryBytes;
    n.free.gpus -= t.requires.gpus;
    if (n.free.cores < 0 || n.free.memoryBytes < 0 || n.free.gpus < 0) return `${n.id} over-committed by ${p.task}`;
  }
  if (s.placements.length + s.pending.length !== w.tasks.length) return `${s.placements.length} placed + ${s.pending.length} pending != ${w.tasks.length} tasks`;
  return undefined;
}

export interface SchedulerPlan {
  tasks: number;
  nodes: number;
  seed: number;
  warmups: number;
  reps: number;
}

export function schedulerPlan(quick: boolean): SchedulerPlan {
  return quick ? {tasks: 2000, nodes: 20, seed: 42, warmups: 2, reps: 5} : {tasks: 10_000, nodes: 100, seed: 42, warmups: 3, reps: 9};
}

export interface PlacerStats {
  placed: number;
  pending: number;
  /** Median wall time of one whole call (sort included), ms. */
  medianMs: number;
  /** Calls per sample (back to back; a sample's time is their mean). */
  callsPerSample: number;
  placementsPerSec: number;
  /** Tasks decided (placed or left pending with a reason) per second. */
  tasksPerSec: number;
  runsMs: number[];
  /** First invariant broken by this placer's output, if any. */
  problem?: string;
}

export interface SchedulerResult {
  plan: SchedulerPlan;
  shape: Workload['shape'];
  /** Identical placements on every repetition. */
  deterministic: boolean;
  byPlacer: Record<Placer, PlacerStats>;
  /** schedule placements/s over first-fit placements/s (< 1: schedule() is slower). */
  ratio: number;
  /** The same ratio per repetition (both placers ran back to back). */
  pairedRatios: number[];
  /** Most common reasons schedule() gave for pending tasks. */
  pendingReasons: {reason: string; count: number}[];
}

const MIN_SAMPLE_MS = 50;
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

export function runScheduler(p: SchedulerPlan, log: (msg: string) => void): SchedulerResult {
  const w = workload(p.tasks, p.nodes, p.seed);
  const outputs: Record<Placer, Schedule[]> = {schedule: [], 'first-fit': []};
  const times: Record<Placer, number[]> = {schedule: [], 'first-fit': []};
  /** Mean ms of `calls` back-to-back calls, and the last call's output. */
  const timed = (placer: Placer, calls: number): [Schedule, number] => {
    const t0 = performance.now();
    let s: Schedule | undefined;
    for (let i = 0; i < calls; i++) s = PLACE[placer](w.tasks, w.nodes);
    return [s!, (performance.now() - t0) / calls];
  };
  // A sample lasts at least MIN_SAMPLE_MS, so a fast placer's few ms are not lost in timer and GC noise.
  const calls = {} as Record<Placer, number>;
  for (const placer of PLACERS) {
    let ms = Infinity;
    for (let i = 0; i < p.warmups; i++) ms = Math.min(ms, timed(placer, 1)[1]);
    calls[placer] = Math.max(1, Math.ceil(MIN_SAMPLE_MS / ms));
  }
  for (let rep = 0; rep < p.reps; rep++) {
    // Alternate which placer goes first, so drift and GC debt from the other one hit both equally.
    for (const placer of rep % 2 === 0 ? PLACERS : [...PLACERS].reverse()) {
      const [s, ms] = timed(placer, calls[placer]);
      outputs[placer].push(s);
      times[placer].push(round(ms, 2));
    }
    log(`scheduler rep ${rep + 1}/${p.reps}: schedule ${times.schedule[rep]!.toFixed(1)} ms, first-fit ${times['first-fit'][rep]!.toFixed(1)} ms`);
  }

  const stats = (placer: Placer): PlacerStats => {
    const s = outputs[placer][0]!;
    const medianMs = quantile([...times[placer]].sort((a, b) => a - b), 0.5);
    const problem = checkSchedule(w, s);
    return {
      placed: s.placements.length,
      pending: s.pending.length,
      medianMs: round(medianMs, 2),
      callsPerSample: calls[placer],
      placementsPerSec: Math.round(s.placements.length / (medianMs / 1000)),
      tasksPerSec: Math.round(w.tasks.length / (medianMs / 1000)),
      runsMs: times[placer],
      ...(problem ? {problem} : {}),
    };
  };
  const byPlacer = {schedule: stats('schedule'), 'first-fit': stats('first-fit')};
  const first = JSON.stringify(outputs.schedule[0]);
  const deterministic = outputs.schedule.every((s) => JSON.stringify(s) === first);
  const perRep = (placer: Placer, rep: number): number => outputs[placer][rep]!.placements.length / times[placer][rep]!;
  const reasons = new Map<string, number>();
  for (const u of outputs.schedule[0]!.pending) {
    // Group by the reason's shape, not its numbers ("most free: 3" vs "most free: 5").
    const key = u.reason.replace(/\d+(\.\d+)?/g, 'N');
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
  return {
    plan: p,
    shape: w.shape,
    deterministic,
    byPlacer,
    ratio: round(byPlacer.schedule.placementsPerSec / byPlacer['first-fit'].placementsPerSec, 3),
    pairedRatios: times.schedule.map((_, rep) => round(perRep('schedule', rep) / perRep('first-fit', rep), 3)),
    pendingReasons: [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([reason, count]) => ({reason, count})),
  };
}
