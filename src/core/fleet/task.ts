import type {TaskRequirements} from './scheduler.js';

/**
 * The task model and its state machine. Pure: every change is a function of (task, event, time given
 * by the caller), returning a new task or a refusal, so the replicated state applies the same change
 * on every node. Each attempt has a number; a result is accepted only for the current attempt, which
 * is how a result is recorded exactly once even when a node declared dead reports late.
 */
export type TaskState = 'pending' | 'assigned' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';

export const TERMINAL: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'cancelled']);

export interface TaskSpec {
  /** Image for the docker runner; absent for the process runner. */
  image?: string;
  command: string[];
  priority: number;
  requires: TaskRequirements;
  /** Environment; secrets only as vault references ("vault:NAME"), never values. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Extra attempts after a loss or failure. */
  retries: number;
  runner: 'docker' | 'process';
  allowEgress: string[];
}

export interface HistoryEntry {
  at: number;
  from: TaskState | null;
  to: TaskState;
  reason: string;
  node?: string;
  attempt: number;
}

export interface TaskResult {
  exitCode: number | null;
  /** e.g. "timeout", "oom", "killed"; null for a normal exit. */
  status: string | null;
}

export interface Task {
  id: string;
  seq: number;
  spec: TaskSpec;
  state: TaskState;
  /** 0 before the first assignment; +1 each time it is (re)assigned. */
  attempt: number;
  node?: string;
  result?: TaskResult;
  history: HistoryEntry[];
}

export type TaskEvent =
  | {type: 'assign'; node: string}
  | {type: 'start'; node: string; attempt: number}
  | {type: 'finish'; node: string; attempt: number; result: TaskResult}
  | {type: 'cancel'; reason: string}
  | {type: 'node-lost'; node: string}
  | {type: 'unassign'; reason: string};

export type Transition = {ok: true; task: Task} | {ok: false; reason: string};

/** Secret values must not travel in a task: only references to the vault. */
export function invalidEnv(env: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return `env name ${k} is not a valid variable name`;
    if (/(SECRET|TOKEN|PASSWORD|API_?KEY|PRIVATE)/i.test(k) && !v.startsWith('vault:')) return `env ${k} looks like a secret: pass it as vault:NAME`;
  }
  return undefined;
}

export function newTask(id: string, seq: number, spec: TaskSpec, at: number): Task {
  return {id, seq, spec, state: 'pending', attempt: 0, history: [{at, from: null, to: 'pending', reason: 'submitted', attempt: 0}]};
}

function move(t: Task, to: TaskState, at: number, reason: string, patch: Partial<Task> = {}): Task {
  const next: Task = {...t, ...patch, state: to};
  next.history = [...t.history, {at, from: t.state, to, reason, attempt: next.attempt, ...(next.node ? {node: next.node} : {})}];
  return next;
}

const refuse = (reason: string): Transition => ({ok: false, reason});

/** Applies one event. A refusal changes nothing (stale, duplicate or out-of-order reports end here). */
export function transition(t: Task, e: TaskEvent, at: number): Transition {
  if (TERMINAL.has(t.state)) return refuse(`task ${t.id} is already ${t.state}`);
  switch (e.type) {
    case 'assign':
      if (t.state !== 'pending') return refuse(`task ${t.id} is ${t.state}, not pending`);
      return {ok: true, task: move(t, 'assigned', at, `placed on ${e.node}`, {node: e.node, attempt: t.attempt + 1})};
    case 'unassign':
      // Teleport of a task not yet running, or its node refused it.
      if (t.state !== 'assigned') return refuse(`task ${t.id} is ${t.state}, not assigned`);
      return {ok: true, task: move(t, 'pending', at, e.reason, {node: undefined})};
    case 'start':
      if (t.state !== 'assigned' || e.node !== t.node || e.attempt !== t.attempt) return refuse(`stale start for ${t.id} (attempt ${e.attempt} on ${e.node})`);
      return {ok: true, task: move(t, 'running', at, `started on ${e.node}`)};
    case 'finish': {
      if ((t.state !== 'running' && t.state !== 'assigned') || e.node !== t.node || e.attempt !== t.attempt) {
        return refuse(`stale result for ${t.id} (attempt ${e.attempt} on ${e.node}); the current attempt is ${t.attempt}`);
      }
      const ok = e.result.exitCode === 0 && e.result.status === null;
      if (ok) return {ok: true, task: move(t, 'succeeded', at, 'exit 0', {result: e.result})};
      const why = e.result.status ?? `exit ${e.result.exitCode}`;
      if (t.attempt <= t.spec.retries) {
        return {ok: true, task: move(t, 'pending', at, `${why}; retrying (${t.attempt}/${t.spec.retries + 1} attempts used)`, {node: undefined, result: e.result})};
      }
      return {ok: true, task: move(t, 'failed', at, why, {result: e.result})};
    }
    case 'cancel':
      return {ok: true, task: move(t, 'cancelled', at, e.reason)};
    case 'node-lost': {
      if (t.node !== e.node || (t.state !== 'assigned' && t.state !== 'running')) return refuse(`task ${t.id} is not on ${e.node}`);
      const lost = move(t, 'lost', at, `node ${e.node} died`);
      if (t.attempt <= t.spec.retries) return {ok: true, task: move(lost, 'pending', at, 'rescheduling after loss', {node: undefined})};
      return {ok: true, task: lost};
    }
  }
}
