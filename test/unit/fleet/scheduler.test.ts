import {byPriority, fits, labelsMatch, schedule} from '../../../src/core/fleet/scheduler.js';
import type {NodeOffer, PendingTask, Resources} from '../../../src/core/fleet/scheduler.js';
import {mulberry32} from '../../sim/rng.js';

const GiB = 2 ** 30;
const task = (id: string, over: Partial<PendingTask> & {cores?: number; gpus?: number; memoryBytes?: number; labels?: Record<string, string>} = {}): PendingTask => ({
  id,
  priority: over.priority ?? 0,
  seq: over.seq ?? 0,
  requires: {cores: over.cores ?? 1, memoryBytes: over.memoryBytes ?? GiB, gpus: over.gpus ?? 0, labels: over.labels ?? {}},
  ...(over.node ? {node: over.node} : {}),
});
const node = (id: string, free: Partial<Resources> = {}, labels: Record<string, string> = {}): NodeOffer => ({
  id,
  free: {cores: free.cores ?? 4, memoryBytes: free.memoryBytes ?? 8 * GiB, gpus: free.gpus ?? 0},
  labels,
});

describe('scheduler: examples', () => {
  test('a GPU task lands on the GPU node; a CPU task avoids it', () => {
    const s = schedule([task('train', {gpus: 1}), task('etl')], [node('cpu'), node('gpu', {gpus: 1})]);
    expect(s.placements).toEqual(expect.arrayContaining([{task: 'train', node: 'gpu'}, {task: 'etl', node: 'cpu'}]));
    expect(s.pending).toEqual([]);
  });

  test('higher priority first; a task that fits nowhere stays pending with its reason and blocks nobody', () => {
    const s = schedule([task('small', {priority: 1, cores: 1}), task('huge', {priority: 9, cores: 64}), task('big', {priority: 5, cores: 4})], [node('a', {cores: 4})]);
    expect(s.placements).toEqual([{task: 'big', node: 'a'}]);
    expect(s.pending).toEqual([
      {task: 'huge', reason: 'no eligible node has enough free cores 64 (most free: 4)'},
      {task: 'small', reason: 'no eligible node has enough free cores 1 (most free: 0)'},
    ]);
  });

  test('labels and pinning are constraints with clear reasons', () => {
    const nodes = [node('a', {}, {zone: 'eu'}), node('b', {}, {zone: 'us'})];
    expect(schedule([task('t', {labels: {zone: 'us'}})], nodes).placements).toEqual([{task: 't', node: 'b'}]);
    expect(schedule([task('t', {labels: {zone: 'ap'}})], nodes).pending[0]!.reason).toBe('no node has label zone=ap');
    expect(schedule([task('t', {node: 'a'})], nodes).placements).toEqual([{task: 't', node: 'a'}]);
    expect(schedule([task('t', {node: 'z'})], nodes).pending[0]!.reason).toBe('node z is not alive');
    expect(schedule([task('t')], []).pending[0]!.reason).toBe('no node is alive');
  });

  test('FIFO within a priority, deterministic ties', () => {
    const s = schedule([task('late', {seq: 2, cores: 4}), task('early', {seq: 1, cores: 4})], [node('a', {cores: 4})]);
    expect(s.placements).toEqual([{task: 'early', node: 'a'}]);
    expect(schedule([task('x')], [node('b'), node('a')]).placements).toEqual([{task: 'x', node: 'a'}]);
  });
});

describe('scheduler: properties over random fleets', () => {
  test.each(Array.from({length: 200}, (_, i) => i + 1))('seed %i', (seed) => {
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const zones = ['a', 'b', 'c'];
    const nodes: NodeOffer[] = Array.from({length: 1 + int(6)}, (_, i) =>
      node(`n${i}`, {cores: int(9), memoryBytes: int(17) * GiB, gpus: rnd() < 0.3 ? 1 + int(2) : 0}, rnd() < 0.5 ? {zone: zones[int(3)]!} : {}),
    );
    const tasks: PendingTask[] = Array.from({length: int(30)}, (_, i) =>
      task(`t${i}`, {
        priority: int(4),
        seq: i,
        cores: 1 + int(4),
        memoryBytes: (1 + int(6)) * GiB,
        gpus: rnd() < 0.2 ? 1 : 0,
        labels: rnd() < 0.3 ? {zone: zones[int(3)]!} : {},
        ...(rnd() < 0.05 ? {node: `n${int(8)}`} : {}),
      }),
    );
    const s = schedule(tasks, nodes);
    const byId = new Map(tasks.map((t) => [t.id, t]));
    const nodeById = new Map(nodes.map((n) => [n.id, n]));
    // Every task is either placed once or pending once.
    expect(s.placements.length + s.pending.length).toBe(tasks.length);
    expect(new Set([...s.placements.map((p) => p.task), ...s.pending.map((p) => p.task)]).size).toBe(tasks.length);
    // Never over-commit; constraints respected.
    const left = new Map(nodes.map((n) => [n.id, {...n.free}]));
    for (const p of s.placements) {
      const t = byId.get(p.task)!;
      const n = nodeById.get(p.node)!;
      expect(labelsMatch(t.requires.labels, n.labels)).toBe(true);
      if (t.node) expect(p.node).toBe(t.node);
      const f = left.get(p.node)!;
      f.cores -= t.requires.cores;
      f.memoryBytes -= t.requires.memoryBytes;
      f.gpus -= t.requires.gpus;
    }
    for (const f of left.values()) expect(Math.min(f.cores, f.memoryBytes, f.gpus)).toBeGreaterThanOrEqual(0);
    for (const u of s.pending) {
      const t = byId.get(u.task)!;
      const eligible = nodes.filter((n) => (!t.node || n.id === t.node) && labelsMatch(t.requires.labels, n.labels));
      // No starvation: a pending task fits on no eligible node even now.
      for (const n of eligible) expect(fits(t.requires, left.get(n.id)!)).toBe(false);
      // Priority: what later (lower-priority) tasks took on a node would not have made room for it.
      for (const n of eligible) {
        const tookAfter = s.placements.filter((p) => p.node === n.id && byPriority(byId.get(p.task)!, t) > 0).map((p) => byId.get(p.task)!.requires);
        const before = {...left.get(n.id)!};
        for (const r of tookAfter) {
          before.cores += r.cores;
          before.memoryBytes += r.memoryBytes;
          before.gpus += r.gpus;
        }
        expect(fits(t.requires, before)).toBe(false);
      }
      expect(u.reason.length).toBeGreaterThan(0);
    }
    // Deterministic: the same input in another order gives the same placements.
    const again = schedule([...tasks].reverse(), [...nodes]);
    expect(again).toEqual(s);
  });
});
