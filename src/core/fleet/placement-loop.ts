import type {Logger} from '../log/logger.js';
import type {NodeCapacity} from './offers.js';
import {nodeOffers, pendingOf} from './offers.js';
import {schedule} from './scheduler.js';
import {holdsNode, transition, withPendingReason} from './task.js';
import type {Task} from './task.js';
import type {TaskStore} from './task-store.js';

/** What the leader knows of a node's liveness: its failure detector's view. */
export type Liveness = 'alive' | 'suspect' | 'dead' | 'unknown';

export interface PlacementDeps {
  store: TaskStore;
  log: Logger;
  clock: () => number;
  isLeader: () => boolean;
  /** Registered nodes with their declared capacity and labels. */
  nodes: () => NodeCapacity[];
  liveness: (id: string) => Liveness;
}

export interface PlacementOptions {
  intervalMs: number;
  /**
   * A node the leader has never heard from is declared lost only after this long as leader (a new
   * leader has not met everyone yet); use the failure detector's dead-after.
   */
  unknownGraceMs: number;
}

/**
 * The leader's control loop (Kubernetes-controller style, over the pure parts): declares tasks on
 * dead nodes lost, places pending tasks with the scheduler, and records why the rest wait. Runs on
 * every node and acts only while this node leads; every write is a CAS, so a stale leader's writes
 * fail instead of doing harm.
 */
export class PlacementLoop {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private again = false;
  private leaderSinceMs: number | undefined;
  private unwatch?: () => void;

  constructor(
    private readonly deps: PlacementDeps,
    private readonly opts: PlacementOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.opts.intervalMs);
    // A change to any task (a submission, a result) is a reason to place at once.
    this.unwatch = this.deps.store.watch(() => this.kick());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
  }

  /** Runs one pass now, or right after the current one. */
  kick(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.pass()
      .catch((err: unknown) => this.deps.log.warn('placement pass failed', {err: (err as Error).message}))
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async pass(): Promise<void> {
    if (!this.deps.isLeader()) {
      this.leaderSinceMs = undefined;
      return;
    }
    const now = this.deps.clock();
    this.leaderSinceMs ??= now;
    const tasks = this.deps.store.local();
    await this.declareLost(tasks, now);

    const live = this.deps.nodes().filter((n) => this.deps.liveness(n.id) === 'alive');
    const current = this.deps.store.local();
    const plan = schedule(pendingOf(current), nodeOffers(live, current));
    for (const p of plan.placements) {
      await this.write(p.task, (t) => transition(t, {type: 'assign', node: p.node}, now), `place ${p.task}`);
    }
    for (const u of plan.pending) {
      const t = current.find((x) => x.id === u.task);
      if (t && t.pendingReason !== u.reason) await this.write(u.task, (x) => (x.state === 'pending' ? {ok: true, task: withPendingReason(x, u.reason)} : {ok: false, reason: 'no longer pending'}), `note ${u.task}`);
    }
  }

  /** Tasks on a node the failure detector declared dead (or unknown for too long) are lost. */
  private async declareLost(tasks: readonly Task[], now: number): Promise<void> {
    const registered = new Set(this.deps.nodes().map((n) => n.id));
    for (const t of tasks) {
      if (!holdsNode(t) || t.node === undefined) continue;
      const l = this.deps.liveness(t.node);
      const gone = !registered.has(t.node) || l === 'dead' || (l === 'unknown' && now - this.leaderSinceMs! >= this.opts.unknownGraceMs);
      if (!gone) continue;
      const node = t.node;
      await this.write(t.id, (x) => transition(x, {type: 'node-lost', node}, now), `declare ${t.id} lost`);
    }
  }

  private async write(id: string, change: Parameters<TaskStore['mutate']>[1], what: string): Promise<void> {
    try {
      await this.deps.store.mutate(id, change, {serializable: true});
    } catch (err) {
      // Refused (it moved on meanwhile) or no quorum: the next pass looks again.
      this.deps.log.debug('placement write skipped', {what, err: (err as Error).message});
    }
  }
}
