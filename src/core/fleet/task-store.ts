import * as crypto from 'node:crypto';

import {ConflictError, NotFoundError, UsageError} from '../errors.js';
import type {KvCommand, KvEvent, KvRecord, KvResult} from '../consensus/kv/kv-store.js';
import type {Task, TaskSpec, Transition} from './task.js';
import {newTask} from './task.js';

/**
 * Tasks in the replicated store: one key per task (namespace `tasks`, key `t/<id>`), its value the
 * task's JSON. Every change is read-transition-write with compare-and-swap on the key's version, so
 * two writers (the leader's placement loop, an executor reporting a result, an operator cancelling)
 * never overwrite each other: the loser re-reads and re-applies the pure transition, which refuses
 * what no longer makes sense (a late result for an old attempt). That is how a result lands once.
 */
export const TASK_NAMESPACE = 'tasks';
const PREFIX = 't/';
const MAX_CAS_RETRIES = 16;

/** The part of the Raft driver the store needs (the driver satisfies it). */
export interface ReplicatedKv {
  propose(cmd: KvCommand, options?: {timeoutMs?: number}): Promise<KvResult>;
  get(namespace: string, key: string, options?: {serializable?: boolean}): Promise<KvRecord>;
  list(namespace: string, prefix: string, options?: {serializable?: boolean}): Promise<KvRecord[]>;
  watch(namespace: string, prefix: string, fn: (e: KvEvent) => void): () => void;
  readonly kv: {get(namespace: string, key: string): KvRecord | undefined; list(namespace: string, prefix?: string): KvRecord[]};
}

/** A refused transition (stale, duplicate, out of order): exit 6, nothing changed. */
export class TransitionRefusedError extends ConflictError {
  readonly refused = true;
}

export function decodeTask(rec: KvRecord): Task | undefined {
  try {
    const t = JSON.parse(rec.value) as Task;
    if (typeof t.id !== 'string' || typeof t.state !== 'string' || !t.spec || !Array.isArray(t.history)) return undefined;
    // Submission order is the order Raft committed the task in.
    t.seq = rec.createRevision;
    t.failures ??= 0;
    return t;
  } catch {
    return undefined;
  }
}

const encode = (t: Task): string => JSON.stringify({...t, seq: 0});

export class TaskStore {
  constructor(private readonly kv: ReplicatedKv) {}

  async submit(spec: TaskSpec, at: number): Promise<Task> {
    const id = crypto.randomBytes(6).toString('hex');
    const task = newTask(id, 0, spec, at);
    const r = await this.kv.propose({op: 'put', namespace: TASK_NAMESPACE, key: PREFIX + id, value: encode(task), ifVersion: 0});
    if (!r.ok) throw new ConflictError(`task id ${id} collided; submit again`);
    return {...task, seq: r.revision};
  }

  /** What this node has applied (no round trip); for loops that re-check with CAS anyway. */
  local(): Task[] {
    return this.kv.kv.list(TASK_NAMESPACE, PREFIX).map(decodeTask).filter((t): t is Task => t !== undefined).sort((a, b) => a.seq - b.seq);
  }

  async list(options: {serializable?: boolean} = {}): Promise<Task[]> {
    const recs = await this.kv.list(TASK_NAMESPACE, PREFIX, options);
    return recs.map(decodeTask).filter((t): t is Task => t !== undefined).sort((a, b) => a.seq - b.seq);
  }

  /** An id or a unique prefix of at least 4 characters (as with git and docker). */
  async resolve(ref: string): Promise<string> {
    if (!/^[0-9a-f]{4,12}$/.test(ref)) throw new UsageError(`task id ${JSON.stringify(ref.slice(0, 40))}: expected hex, at least 4 characters`);
    const ids = (await this.list()).map((t) => t.id).filter((id) => id.startsWith(ref));
    if (ids.length === 0) throw new NotFoundError(`no task ${ref}; see swarm task list`);
    if (ids.length > 1) throw new UsageError(`task ${ref} is ambiguous (${ids.length} tasks); give more characters`);
    return ids[0]!;
  }

  async get(id: string, options: {serializable?: boolean} = {}): Promise<Task> {
    const {task} = await this.read(id, options);
    return task;
  }

  private async read(id: string, options: {serializable?: boolean}): Promise<{task: Task; version: number}> {
    let rec: KvRecord;
    try {
      rec = await this.kv.get(TASK_NAMESPACE, PREFIX + id, options);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`no task ${id}; see swarm task list`);
      throw err;
    }
    const task = decodeTask(rec);
    if (!task) throw new ConflictError(`task ${id} is unreadable in the store`);
    return {task, version: rec.version};
  }

  /**
   * Applies a pure change with compare-and-swap, re-reading on a conflict. A refusal throws
   * TransitionRefusedError and writes nothing.
   */
  async mutate(id: string, change: (t: Task) => Transition, options: {serializable?: boolean} = {}): Promise<Task> {
    for (let i = 0; i < MAX_CAS_RETRIES; i++) {
      const {task, version} = await this.read(id, i === 0 ? options : {});
      const tr = change(task);
      if (!tr.ok) throw new TransitionRefusedError(tr.reason);
      if (encode(tr.task) === encode(task)) return task;
      const r = await this.kv.propose({op: 'put', namespace: TASK_NAMESPACE, key: PREFIX + id, value: encode(tr.task), ifVersion: version});
      if (r.ok) return {...tr.task, seq: task.seq};
    }
    throw new ConflictError(`task ${id} is changing too fast to update; retry`);
  }

  watch(fn: (id: string) => void): () => void {
    return this.kv.watch(TASK_NAMESPACE, PREFIX, (e) => fn(e.key.slice(PREFIX.length)));
  }
}
