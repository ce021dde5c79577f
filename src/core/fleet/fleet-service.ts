import * as path from 'node:path';

import {NotFoundError, RefusedError, UsageError} from '../errors.js';
import {pickRunner} from '../sandbox/run-local.js';
import type {ServiceContext} from '../service-context.js';
import type {NodeCapacity} from './offers.js';
import {nodeOffers} from './offers.js';
import {PlacementLoop} from './placement-loop.js';
import type {Liveness} from './placement-loop.js';
import {schedule} from './scheduler.js';
import type {TaskRequirements} from './scheduler.js';
import {TERMINAL, holdsNode, transition} from './task.js';
import type {Checkpoint, Task} from './task.js';
import {TaskExecutor} from './task-executor.js';
import {validateTaskSpec} from './task-spec.js';
import {TaskStore} from './task-store.js';

const CHUNK_BYTES = 512 * 1024;
const MSG_LOGS = 'task.logs';
const MSG_CHECKPOINT = 'task.checkpoint';
const MSG_CHECKPOINT_READ = 'task.checkpoint.read';

export interface FleetServiceDeps extends ServiceContext {
  isLeader: () => boolean;
  nodes: () => (NodeCapacity & {name: string})[];
  liveness: (id: string) => Liveness;
  /** An operator's node reference (id, name, prefix) to a node id; NotFoundError otherwise. */
  resolveNode: (ref: string) => string;
  /** `vault:NAME` env values to secrets, from this node's vault. */
  resolveEnv: (env: Record<string, string>) => Promise<Record<string, string>>;
}

export interface FleetServiceOptions {
  placementIntervalMs: number;
  executorIntervalMs: number;
  /** The failure detector's dead-after: how long a new leader waits for a node it never heard from. */
  unknownGraceMs: number;
}

export interface TaskLogs {
  id: string;
  attempt: number;
  node: string | null;
  stream: 'stdout' | 'stderr';
  /** Where the next read starts. */
  offset: number;
  text: string;
  /** The attempt may still write more (it is assigned or running). */
  more: boolean;
}

export interface TeleportResult {
  task: Task;
  from: string | null;
  checkpoint: Checkpoint | null;
  /** What happened, in order, for the operator. */
  steps: string[];
}

/**
 * The fleet manager on one node: the task API behind the control calls, the leader's placement loop,
 * this node's executor, and the node-to-node messages they need (logs, checkpoints).
 */
export class FleetService {
  readonly store: TaskStore;
  readonly executor: TaskExecutor;
  private readonly placement: PlacementLoop;

  constructor(
    private readonly deps: FleetServiceDeps,
    opts: FleetServiceOptions,
  ) {
    this.store = new TaskStore(deps.kv);
    this.placement = new PlacementLoop(
      {store: this.store, log: deps.log, clock: deps.clock, isLeader: deps.isLeader, nodes: deps.nodes, liveness: deps.liveness},
      {intervalMs: opts.placementIntervalMs, unknownGraceMs: opts.unknownGraceMs},
    );
    this.executor = new TaskExecutor(
      {
        store: this.store,
        self: deps.self,
        root: path.join(deps.dataDir, 'tasks'),
        log: deps.log,
        clock: deps.clock,
        runner: (t) => pickRunner(t.spec.runner === 'auto' && !t.spec.image ? 'process' : t.spec.runner),
        fetchCheckpoint: (id, cp) => this.fetchCheckpoint(id, cp),
        resolveEnv: deps.resolveEnv,
      },
      {intervalMs: opts.executorIntervalMs},
    );
    const t = deps.transport;
    t.handle(MSG_LOGS, (env) => {
      const b = env.body as {id?: unknown; attempt?: unknown; stream?: unknown; offset?: unknown};
      if (typeof b?.id !== 'string' || !Number.isSafeInteger(b.attempt) || (b.stream !== 'stdout' && b.stream !== 'stderr') || !Number.isSafeInteger(b.offset)) throw new UsageError('task.logs: malformed');
      return this.executor.readLog(b.id, b.attempt as number, b.stream, b.offset as number, CHUNK_BYTES);
    });
    t.handle(MSG_CHECKPOINT, (env) => {
      const b = env.body as {id?: unknown; attempt?: unknown};
      if (typeof b?.id !== 'string' || !Number.isSafeInteger(b.attempt)) throw new UsageError('task.checkpoint: malformed');
      return this.executor.checkpoint(b.id, b.attempt as number);
    });
    t.handle(MSG_CHECKPOINT_READ, (env) => {
      const b = env.body as {id?: unknown; attempt?: unknown; offset?: unknown};
      if (typeof b?.id !== 'string' || !Number.isSafeInteger(b.attempt) || !Number.isSafeInteger(b.offset)) throw new UsageError('task.checkpoint.read: malformed');
      return this.executor.readCheckpoint(b.id, b.attempt as number, b.offset as number, CHUNK_BYTES);
    });
  }

  start(): void {
    this.executor.start();
    this.placement.start();
  }

  async stop(): Promise<void> {
    this.placement.stop();
    await this.executor.stop();
  }

  submit(spec: unknown): Promise<Task> {
    return this.store.submit(validateTaskSpec(spec), this.deps.clock());
  }

  list(): Promise<Task[]> {
    return this.store.list();
  }

  async get(ref: string): Promise<Task> {
    return this.store.get(await this.store.resolve(ref));
  }

  async cancel(ref: string): Promise<Task> {
    const id = await this.store.resolve(ref);
    return this.store.mutate(id, (t) => transition(t, {type: 'cancel', reason: 'cancelled by operator'}, this.deps.clock()));
  }

  /**
   * Moves a task: a pending or assigned one is re-queued with the new constraint; a running one is
   * first checkpointed and stopped on its node, then re-queued with the checkpoint, so the target
   * starts from its work dir. Refused (exit 5) when no live node other than its own qualifies now.
   */
  async teleport(ref: string, to: string | undefined, require: string[]): Promise<TeleportResult> {
    if ((to === undefined) === (require.length === 0)) throw new UsageError('teleport needs --to NODE or --require gpu|label=value');
    const id = await this.store.resolve(ref);
    const task = await this.store.get(id);
    if (TERMINAL.has(task.state)) throw new RefusedError(`task ${id} is ${task.state}; only pending, assigned or running tasks move`);
    const pin = to !== undefined ? this.deps.resolveNode(to) : undefined;
    const requires = withRequirements(task.spec.requires, require);
    const from = holdsNode(task) ? (task.node ?? null) : null;
    const live = this.deps.nodes().filter((n) => n.id !== from && this.deps.liveness(n.id) === 'alive');
    const plan = schedule([{id, priority: task.spec.priority, seq: task.seq, requires, ...(pin ? {node: pin} : {})}], nodeOffers(live, this.store.local()));
    if (plan.pending.length > 0) throw new RefusedError(`no node can take task ${id}: ${plan.pending[0]!.reason}`);
    const steps: string[] = [];
    const name = (nid: string): string => this.deps.nodes().find((n) => n.id === nid)?.name ?? nid;
    let checkpoint: Checkpoint | undefined;
    if (task.state === 'running' && from) {
      steps.push(`checkpointing attempt ${task.attempt} on ${name(from)}`);
      const cp = from === this.deps.self ? await this.executor.checkpoint(id, task.attempt) : ((await this.deps.transport.request(from, MSG_CHECKPOINT, {id, attempt: task.attempt}, {timeoutMs: 60_000})) as {bytes: number; sha256: string});
      checkpoint = {node: from, attempt: task.attempt, bytes: cp.bytes, sha256: cp.sha256};
      steps.push(`stopped on ${name(from)}; work dir archived (${cp.bytes} bytes, sha256 ${cp.sha256.slice(0, 12)})`);
    }
    const target = pin ? `to ${name(pin)}` : `requiring ${require.join(',')}`;
    const moved = await this.store.mutate(id, (t) =>
      transition(t, {type: 'teleport', requires, reason: `teleport ${target}${checkpoint ? ' from its checkpoint' : ''}`, ...(pin ? {pin} : {}), ...(checkpoint ? {checkpoint} : {})}, this.deps.clock()),
    );
    steps.push(`re-queued ${target}; the scheduler places it`);
    return {task: moved, from, checkpoint: checkpoint ?? null, steps};
  }

  /** A slice of a task attempt's output, from the node that ran it. */
  async logs(ref: string, opts: {attempt?: number; stream: 'stdout' | 'stderr'; offset: number}): Promise<TaskLogs> {
    const task = await this.get(ref);
    const attempt = opts.attempt ?? task.attempt;
    const node = [...task.history].reverse().find((h) => h.attempt === attempt && h.node !== undefined)?.node ?? null;
    const more = holdsNode(task) && task.attempt === attempt;
    const empty: TaskLogs = {id: task.id, attempt, node, stream: opts.stream, offset: opts.offset, text: '', more};
    if (!node || attempt === 0) return empty;
    let slice: {data: Buffer; total: number};
    try {
      slice =
        node === this.deps.self
          ? this.executor.readLog(task.id, attempt, opts.stream, opts.offset, CHUNK_BYTES)
          : ((await this.deps.transport.request(node, MSG_LOGS, {id: task.id, attempt, stream: opts.stream, offset: opts.offset}, {timeoutMs: 5000})) as {data: Buffer; total: number});
    } catch (err) {
      // Not written yet (the attempt has not produced output), or its node is gone.
      if (err instanceof NotFoundError || more) return empty;
      throw err;
    }
    const data = Buffer.from(slice.data);
    return {...empty, offset: opts.offset + data.length, text: data.toString('utf8')};
  }

  private async fetchCheckpoint(id: string, cp: Checkpoint): Promise<Buffer> {
    if (cp.node === this.deps.self) return this.executor.readCheckpoint(id, cp.attempt, 0, cp.bytes).data;
    const parts: Buffer[] = [];
    let offset = 0;
    while (offset < cp.bytes) {
      const r = (await this.deps.transport.request(cp.node, MSG_CHECKPOINT_READ, {id, attempt: cp.attempt, offset}, {timeoutMs: 10_000})) as {data: Buffer; total: number};
      const data = Buffer.from(r.data);
      if (data.length === 0) break;
      parts.push(data);
      offset += data.length;
    }
    const archive = Buffer.concat(parts);
    if (archive.length !== cp.bytes) throw new RefusedError(`checkpoint of ${id} is incomplete (${archive.length}/${cp.bytes} bytes)`);
    return archive;
  }
}

/** `--require gpu` needs at least one GPU; `--require k=v` adds a label constraint. */
export function withRequirements(base: TaskRequirements, require: string[]): TaskRequirements {
  const out: TaskRequirements = {...base, labels: {...base.labels}};
  for (const r of require) {
    if (r === 'gpu') out.gpus = Math.max(1, out.gpus);
    else {
      const m = /^([A-Za-z0-9][A-Za-z0-9._/-]{0,62})=(.{0,255})$/.exec(r);
      if (!m) throw new UsageError(`--require ${r}: expected gpu or label=value`);
      out.labels[m[1]!] = m[2]!;
    }
  }
  return out;
}
