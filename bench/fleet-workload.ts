/**
 * The fleet bench's scheduling input: a seeded, deterministic cluster of nodes and a queue of pending
 * tasks with mixed priorities and sizes, a few GPU tasks (and GPU nodes), label constraints (some of
 * which no node can satisfy) and a few tasks pinned to one node. The same seed gives the same input
 * on every machine, so runs are comparable.
 */
import type {NodeOffer, PendingTask} from '../src/core/fleet/scheduler.js';
import {mulberry32} from '../test/sim/rng.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** The simulator's seeded generator (mulberry32): workloads replay from their seed. */
export const rng = mulberry32;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export interface Workload {
  nodes: NodeOffer[];
  tasks: PendingTask[];
  /** What the generator made, for the report. */
  shape: {nodes: number; gpuNodes: number; tasks: number; gpuTasks: number; labelled: number; pinned: number; cores: number; demandCores: number};
}

/**
 * `nodeCount` nodes (one in ten with GPUs) and `taskCount` tasks whose core demand is a bit above the
 * cluster's capacity, so most tasks are placed and the rest stay pending with a reason (both paths of
 * the scheduler run).
 */
export function workload(taskCount: number, nodeCount: number, seed = 42): Workload {
  const r = rng(seed);
  const zones = ['a', 'b', 'c'];
  const nodes: NodeOffer[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const gpu = i % 10 === 9;
    const cores = gpu ? pick(r, [64, 96]) : pick(r, [64, 96, 128, 128]);
    const labels: Record<string, string> = {zone: pick(r, zones), disk: r() < 0.6 ? 'ssd' : 'hdd', arch: r() < 0.9 ? 'amd64' : 'arm64'};
    if (gpu) labels.accel = 'gpu';
    nodes.push({id: `node-${String(i).padStart(3, '0')}`, free: {cores, memoryBytes: cores * 4 * GiB, gpus: gpu ? pick(r, [8, 16]) : 0}, labels});
  }

  const tasks: PendingTask[] = [];
  let gpuTasks = 0;
  let labelled = 0;
  let pinned = 0;
  for (let i = 0; i < taskCount; i++) {
    const gpu = r() < 0.02;
    const labels: Record<string, string> = {};
    const l = r();
    if (gpu) labels.accel = 'gpu';
    else if (l < 0.12) labels.disk = 'ssd';
    else if (l < 0.17) labels.zone = pick(r, zones);
    else if (l < 0.21) Object.assign(labels, {zone: pick(r, zones), disk: 'ssd'});
    else if (l < 0.22) labels.arch = 'arm64';
    else if (l < 0.225) labels.zone = 'd'; // no such zone: stays pending ("no node has label")
    const node = r() < 0.01 ? nodes[Math.floor(r() * nodes.length)]?.id : undefined;
    tasks.push({
      id: `task-${String(i).padStart(5, '0')}`,
      priority: pick(r, [0, 0, 0, 0, 1, 1, 2, 5, 10]),
      seq: i,
      requires: gpu
        ? {cores: pick(r, [2, 4, 8]), memoryBytes: pick(r, [8, 16, 32]) * GiB, gpus: pick(r, [1, 1, 2]), labels}
        : {cores: pick(r, [0.25, 0.5, 0.5, 1, 1, 1, 2]), memoryBytes: pick(r, [256, 512, 1024, 2048, 4096]) * MiB, gpus: 0, labels},
      ...(node !== undefined ? {node} : {}),
    });
    if (gpu) gpuTasks++;
    if (Object.keys(labels).length > 0) labelled++;
    if (node !== undefined) pinned++;
  }
  const cores = nodes.reduce((a, n) => a + n.free.cores, 0);
  const demandCores = tasks.reduce((a, t) => a + t.requires.cores, 0);
  return {nodes, tasks, shape: {nodes: nodeCount, gpuNodes: nodes.filter((n) => n.free.gpus > 0).length, tasks: taskCount, gpuTasks, labelled, pinned, cores, demandCores}};
}
