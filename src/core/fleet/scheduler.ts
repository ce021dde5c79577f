/**
 * Task placement: a pure function from (pending tasks, nodes' free capacity) to placements. Highest
 * priority first (then submission order), each task on the node where it fits best; a task that fits
 * nowhere stays pending with the reason, and does not block lower-priority tasks that do fit (no
 * head-of-line blocking). It never over-commits a node. No I/O, clock or randomness: the same input
 * gives the same placements on every node.
 */
export interface Resources {
  cores: number;
  memoryBytes: number;
  gpus: number;
}

export interface TaskRequirements extends Resources {
  /** Every label must be present on the node with this exact value. */
  labels: Record<string, string>;
}

export interface PendingTask {
  id: string;
  /** Higher runs first. */
  priority: number;
  /** Submission order, the tie-break within a priority (FIFO). */
  seq: number;
  requires: TaskRequirements;
  /** Only this node may take it (teleport --to). */
  node?: string;
}

export interface NodeOffer {
  id: string;
  /** Free capacity now (capacity minus what assigned and running tasks hold). */
  free: Resources;
  labels: Record<string, string>;
}

export interface Placement {
  task: string;
  node: string;
}

export interface Unplaced {
  task: string;
  /** One line an operator can act on. */
  reason: string;
}

export interface Schedule {
  placements: Placement[];
  pending: Unplaced[];
}

const RESOURCES: (keyof Resources)[] = ['cores', 'memoryBytes', 'gpus'];

export function fits(need: Resources, free: Resources): boolean {
  return RESOURCES.every((r) => need[r] <= free[r]);
}

export function labelsMatch(need: Record<string, string>, have: Record<string, string>): boolean {
  return Object.entries(need).every(([k, v]) => have[k] === v);
}

/** Task order: priority descending, then submission order, then id (total, so the result is deterministic). */
export function byPriority(a: PendingTask, b: PendingTask): number {
  return b.priority - a.priority || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Best fit: the node left with the least spare capacity relative to what it has, so big nodes (and
 * GPU nodes, whose GPUs weigh most) stay free for the tasks that need them.
 */
function leftoverScore(need: Resources, free: Resources): number {
  const frac = (r: keyof Resources): number => (free[r] === 0 ? 0 : (free[r] - need[r]) / free[r]);
  // A spare GPU is the scarcest thing a node has: keep GPU nodes for GPU tasks.
  return frac('cores') + frac('memoryBytes') + (free.gpus - need.gpus) * 4;
}

export function schedule(tasks: readonly PendingTask[], nodes: readonly NodeOffer[]): Schedule {
  const free = new Map(nodes.map((n) => [n.id, {...n.free}]));
  const placements: Placement[] = [];
  const pending: Unplaced[] = [];
  for (const t of [...tasks].sort(byPriority)) {
    const eligible = nodes.filter((n) => (t.node === undefined || n.id === t.node) && labelsMatch(t.requires.labels, n.labels));
    const fitting = eligible.filter((n) => fits(t.requires, free.get(n.id)!));
    if (fitting.length === 0) {
      pending.push({task: t.id, reason: whyNot(t, nodes, eligible, free)});
      continue;
    }
    let best = fitting[0]!;
    let bestScore = leftoverScore(t.requires, free.get(best.id)!);
    for (const n of fitting.slice(1)) {
      const s = leftoverScore(t.requires, free.get(n.id)!);
      if (s < bestScore || (s === bestScore && n.id < best.id)) {
        best = n;
        bestScore = s;
      }
    }
    const f = free.get(best.id)!;
    for (const r of RESOURCES) f[r] -= t.requires[r];
    placements.push({task: t.id, node: best.id});
  }
  return {placements, pending};
}

function whyNot(t: PendingTask, nodes: readonly NodeOffer[], eligible: readonly NodeOffer[], free: Map<string, Resources>): string {
  if (nodes.length === 0) return 'no node is alive';
  if (t.node !== undefined && !nodes.some((n) => n.id === t.node)) return `node ${t.node} is not alive`;
  if (eligible.length === 0) {
    const labels = Object.entries(t.requires.labels).map(([k, v]) => `${k}=${v}`).join(',');
    return t.node !== undefined ? `node ${t.node} lacks label ${labels}` : `no node has label ${labels}`;
  }
  const short = RESOURCES.filter((r) => !eligible.some((n) => t.requires[r] <= free.get(n.id)![r]));
  const what = (short.length > 0 ? short : RESOURCES).map((r) => `${r} ${t.requires[r]} (most free: ${Math.max(...eligible.map((n) => free.get(n.id)![r]))})`);
  return `no eligible node has enough free ${what.join(', ')}`;
}
