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
  /** auto: docker when the node has an engine (and the task an image), else the process runner. */
  runner: 'docker' | 'process' | 'auto';
  allowEgress: string[];
}

/** Where a teleported task's work dir waits: an archive on the node it was checkpointed on. */
export interface Checkpoint {
  node: string;
  attempt: number;
  bytes: number;
  sha256: string;
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
  /** One line from the sandbox when it stopped the command (never secret values). */
  detail?: string;
  /** The sanitizer's verdict on the output, when not allow (the output may carry injection or leaks). */
  screen?: {verdict: 'redact' | 'block'; rules: string[]};
}

export interface Task {
  id: string;
  seq: number;
  spec: TaskSpec;
  state: TaskState;
  /** 0 before the first assignment; +1 each time it is (re)assigned. */
  attempt: number;
  /** Attempts that failed or were lost: what the retry budget counts (a teleport is not a failure). */
  failures: number;
  node?: string;
  /** Only this node may take it (teleport --to). */
  pin?: string;
  /** Why the scheduler could not place it (pending only). */
  pendingReason?: string;
  /** The work dir to restore before the next start (teleport of a running task). */
  checkpoint?: Checkpoint;
  result?: TaskResult;
  history: HistoryEntry[];
}

export type TaskEvent =
  | {type: 'assign'; node: string}
  | {type: 'start'; node: string; attempt: number}
  | {type: 'finish'; node: string; attempt: number; result: TaskResult}
  | {type: 'cancel'; reason: string}
  | {type: 'node-lost'; node: string; reason?: string}
  | {type: 'unassign'; reason: string}
  /** Re-place with new constraints; a running task must have been checkpointed (and stopped) first. */
  | {type: 'teleport'; pin?: string; requires: TaskRequirements; checkpoint?: Checkpoint; reason: string};

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
  return {id, seq, spec, state: 'pending', attempt: 0, failures: 0, history: [{at, from: null, to: 'pending', reason: 'submitted', attempt: 0}]};
}

function move(t: Task, to: TaskState, at: number, reason: string, patch: Partial<Task> = {}): Task {
  const next: Task = {...t, ...patch, state: to};
  // Optional fields set to undefined are removed, so the stored JSON stays canonical.
  for (const k of Object.keys(next) as (keyof Task)[]) if (next[k] === undefined) delete next[k];
  if (to !== 'pending') delete next.pendingReason;
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
      if (t.pin !== undefined && t.pin !== e.node) return refuse(`task ${t.id} is pinned to ${t.pin}`);
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
      const why = e.result.status ? `${e.result.status}${e.result.detail ? ` (${e.result.detail})` : ''}` : `exit ${e.result.exitCode}`;
      const failures = t.failures + 1;
      if (failures <= t.spec.retries) {
        return {ok: true, task: move(t, 'pending', at, `${why}; retrying (${failures}/${t.spec.retries} retries used)`, {node: undefined, result: e.result, failures})};
      }
      return {ok: true, task: move(t, 'failed', at, why, {result: e.result, failures})};
    }
    case 'cancel':
      return {ok: true, task: move(t, 'cancelled', at, e.reason)};
    case 'node-lost': {
      if (t.node !== e.node || (t.state !== 'assigned' && t.state !== 'running')) return refuse(`task ${t.id} is not on ${e.node}`);
      const failures = t.failures + 1;
      const lost = move(t, 'lost', at, e.reason ?? `node ${e.node} died`, {failures});
      if (failures <= t.spec.retries) return {ok: true, task: move(lost, 'pending', at, `rescheduling after loss (${failures}/${t.spec.retries} retries used)`, {node: undefined})};
      return {ok: true, task: lost};
    }
    case 'teleport': {
      if (t.state === 'running' && !e.checkpoint) return refuse(`task ${t.id} is running: it must be checkpointed before it moves`);
      if (t.state !== 'pending' && t.state !== 'assigned' && t.state !== 'running') return refuse(`task ${t.id} is ${t.state}; only pending, assigned or running tasks move`);
      const patch: Partial<Task> = {node: undefined, pin: e.pin, spec: {...t.spec, requires: e.requires}};
      if (e.checkpoint) patch.checkpoint = e.checkpoint;
      return {ok: true, task: move(t, 'pending', at, e.reason, patch)};
    }
  }
}

/** Records why the scheduler cannot place a pending task (not a state change: no history entry). */
export function withPendingReason(t: Task, reason: string | undefined): Task {
  const next = {...t};
  if (reason === undefined) delete next.pendingReason;
  else next.pendingReason = reason;
  return next;
}

/** A task that still holds resources on its node. */
export function holdsNode(t: Task): boolean {
  return t.state === 'assigned' || t.state === 'running';
}
