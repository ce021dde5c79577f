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
  for (const k in need) if (have[k] !== need[k]) return false;
  return true;
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
  const frees = nodes.map((n) => free.get(n.id)!);
  const placements: Placement[] = [];
  const pending: Unplaced[] = [];
  for (const t of [...tasks].sort(byPriority)) {
    // One pass over the nodes, no allocation: this loop runs tasks x nodes times.
    const need = t.requires;
    let best = -1;
    let bestScore = Infinity;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      const f = frees[i]!;
      if (t.node !== undefined && n.id !== t.node) continue;
      if (need.cores > f.cores || need.memoryBytes > f.memoryBytes || need.gpus > f.gpus) continue;
      if (!labelsMatch(need.labels, n.labels)) continue;
      const score = leftoverScore(need, f);
      if (score < bestScore || (score === bestScore && n.id < nodes[best]!.id)) {
        best = i;
        bestScore = score;
      }
    }
    if (best < 0) {
      const eligible = nodes.filter((n) => (t.node === undefined || n.id === t.node) && labelsMatch(need.labels, n.labels));
      pending.push({task: t.id, reason: whyNot(t, nodes, eligible, free)});
      continue;
    }
    const f = frees[best]!;
    f.cores -= need.cores;
    f.memoryBytes -= need.memoryBytes;
    f.gpus -= need.gpus;
    placements.push({task: t.id, node: nodes[best]!.id});
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
