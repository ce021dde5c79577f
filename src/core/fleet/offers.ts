import type {NodeOffer, PendingTask, Resources} from './scheduler.js';
import type {Task} from './task.js';
import {holdsNode} from './task.js';

/**
 * The scheduler's input from the replicated state: each live node's free capacity (what it declared
 * minus what its assigned and running tasks hold), and the pending tasks. Pure.
 */
export interface NodeCapacity {
  id: string;
  capacity: Resources;
  labels: Record<string, string>;
}

export function nodeOffers(nodes: readonly NodeCapacity[], tasks: readonly Task[]): NodeOffer[] {
  const held = new Map<string, Resources>();
  for (const t of tasks) {
    if (!holdsNode(t) || t.node === undefined) continue;
    const h = held.get(t.node) ?? {cores: 0, memoryBytes: 0, gpus: 0};
    h.cores += t.spec.requires.cores;
    h.memoryBytes += t.spec.requires.memoryBytes;
    h.gpus += t.spec.requires.gpus;
    held.set(t.node, h);
  }
  return nodes.map((n) => {
    const h = held.get(n.id) ?? {cores: 0, memoryBytes: 0, gpus: 0};
    return {
      id: n.id,
      labels: n.labels,
      free: {cores: n.capacity.cores - h.cores, memoryBytes: n.capacity.memoryBytes - h.memoryBytes, gpus: n.capacity.gpus - h.gpus},
    };
  });
}

export function pendingOf(tasks: readonly Task[]): PendingTask[] {
  return tasks
    .filter((t) => t.state === 'pending')
    .map((t) => ({id: t.id, priority: t.spec.priority, seq: t.seq, requires: t.spec.requires, ...(t.pin !== undefined ? {node: t.pin} : {})}));
}
