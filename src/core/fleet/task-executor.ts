import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {ConflictError, NotFoundError} from '../errors.js';
import type {Logger} from '../log/logger.js';
import {processSecrets, StreamRedactor} from '../log/redactor.js';
import {sanitize} from '../security/sanitizer/index.js';
import type {Sandbox, SandboxResult} from '../sandbox/types.js';
import {packDir, unpackDir} from './checkpoint-archive.js';
import {holdsNode, transition} from './task.js';
import type {Checkpoint, Task, TaskResult} from './task.js';
import type {TaskStore} from './task-store.js';
import {TransitionRefusedError} from './task-store.js';

/** The sandboxed user (nobody) must own what a restored checkpoint put in its work dir. */
const SANDBOX_UID = 65534;
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const PIDS_LIMIT = 256;
/** How much of each stream the output screen reads. */
const SCREEN_BYTES = 1024 * 1024;
/** A checkpointed run is not declared lost while the teleport that asked for it is being recorded. */
const CHECKPOINT_GRACE_MS = 30_000;

export interface ExecutorDeps {
  store: TaskStore;
  /** This node's id. */
  self: string;
  /** Where attempts keep their work dir, logs and checkpoint: <root>/<task>/<attempt>/. */
  root: string;
  log: Logger;
  clock: () => number;
  /** The runner for a task (auto: docker when the task has an image and an engine answers). */
  runner: (t: Task) => Promise<Sandbox>;
  /** The archive a checkpoint names, from whichever node holds it. */
  fetchCheckpoint: (taskId: string, cp: Checkpoint) => Promise<Buffer>;
  /** `vault:NAME` env values to the secrets (this node's vault must be unlocked). */
  resolveEnv: (env: Record<string, string>) => Promise<Record<string, string>>;
}

interface LocalRun {
  attempt: number;
  controller: AbortController;
  /** Set when this node stops the run on purpose: no result is reported for it. */
  stopping?: 'checkpoint' | 'moved';
  /** The sandbox returned on its own: too late to checkpoint. */
  finished: boolean;
  done: Promise<void>;
}

export interface ExecutorStats {
  started: number;
  reported: number;
  /** Results the replicated state refused (an old attempt: the task had moved on). */
  lateRefused: number;
  checkpoints: number;
}

/**
 * Runs the tasks the leader assigned to this node: marks each started, runs it in a sandbox, and
 * reports its result through the replicated state. It follows the state, not messages: a task that is
 * cancelled or moves away is stopped here, and a task the state says runs here but this process is not
 * running (it restarted) is declared lost so it is rescheduled.
 */
export class TaskExecutor {
  readonly stats: ExecutorStats = {started: 0, reported: 0, lateRefused: 0, checkpoints: 0};
  private readonly runs = new Map<string, LocalRun>();
  /** `${id}/${attempt}` this process has taken on (never launched twice). */
  private readonly seen = new Set<string>();
  private readonly checkpointed = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private unwatch?: () => void;
  private stopped = false;

  constructor(
    private readonly deps: ExecutorDeps,
    private readonly opts: {intervalMs: number},
  ) {}

  start(): void {
    fs.mkdirSync(this.deps.root, {recursive: true, mode: 0o700});
    this.timer = setInterval(() => this.reconcile(), this.opts.intervalMs);
    this.unwatch = this.deps.store.watch(() => this.reconcile());
    this.reconcile();
  }

  /** Stops every local run (their results are not reported: after a restart they count as lost). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    for (const r of this.runs.values()) {
      r.stopping ??= 'moved';
      r.controller.abort();
    }
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }

  running(): {id: string; attempt: number}[] {
    return [...this.runs].map(([id, r]) => ({id, attempt: r.attempt}));
  }

  private reconcile(): void {
    if (this.stopped) return;
    const now = this.deps.clock();
    for (const t of this.deps.store.local()) {
      const run = this.runs.get(t.id);
      if (run) {
        if (!run.stopping && (t.node !== this.deps.self || t.attempt !== run.attempt || !holdsNode(t))) {
          this.deps.log.info('task stopped here', {task: t.id, attempt: run.attempt, state: t.state});
          run.stopping = 'moved';
          run.controller.abort();
        }
        continue;
      }
      if (t.node !== this.deps.self || !holdsNode(t)) continue;
      const key = `${t.id}/${t.attempt}`;
      if (t.state === 'assigned' && !this.seen.has(key)) this.launch(t);
      else if (t.state === 'running' && !this.seen.has(key)) this.declareLost(t, `node ${this.deps.self} restarted; attempt ${t.attempt} lost`);
      else if (t.state === 'running' && (this.checkpointed.get(key) ?? Infinity) < now) {
        this.checkpointed.delete(key);
        this.declareLost(t, `checkpointed on ${this.deps.self} but never moved`);
      }
    }
  }

  private declareLost(t: Task, reason: string): void {
    this.seen.add(`${t.id}/${t.attempt}`);
    this.deps.store
      .mutate(t.id, (x) => transition(x, {type: 'node-lost', node: this.deps.self, reason}, this.deps.clock()))
      .catch((err: unknown) => {
        this.seen.delete(`${t.id}/${t.attempt}`); // look again next pass
        this.deps.log.debug('declare lost failed', {task: t.id, err: (err as Error).message});
      });
  }

  attemptDir(id: string, attempt: number): string {
    return path.join(this.deps.root, id, String(attempt));
  }

  private launch(t: Task): void {
    const attempt = t.attempt;
    this.seen.add(`${t.id}/${attempt}`);
    const run: LocalRun = {attempt, controller: new AbortController(), finished: false, done: Promise.resolve()};
    this.runs.set(t.id, run);
    run.done = this.execute(t, run)
      .then(async (result) => {
        // A run stopped on purpose has nothing to report; one that ended on its own reports even if
        // the task moved meanwhile: the replicated state decides (it refuses an old attempt).
        if (result && run.stopping !== 'checkpoint' && !(run.stopping === 'moved' && result.status === 'killed')) await this.report(t.id, attempt, result);
      })
      .catch((err: unknown) => this.deps.log.warn('task run failed', {task: t.id, err: (err as Error).message}))
      .finally(() => {
        if (this.runs.get(t.id) === run) this.runs.delete(t.id);
      });
  }

  /** Restores, starts and runs one attempt; undefined when it did not start (refused or stopped). */
  private async execute(t: Task, run: LocalRun): Promise<TaskResult | undefined> {
    const dir = this.attemptDir(t.id, run.attempt);
    const work = path.join(dir, 'work');
    fs.rmSync(dir, {recursive: true, force: true});
    fs.mkdirSync(work, {recursive: true});
    fs.chmodSync(work, 0o777);
    let sandbox: Sandbox;
    try {
      sandbox = await this.deps.runner(t);
    } catch (err) {
      return {exitCode: null, status: 'error', detail: (err as Error).message};
    }
    if (t.checkpoint) {
      try {
        const archive = await this.deps.fetchCheckpoint(t.id, t.checkpoint);
        const sum = crypto.createHash('sha256').update(archive).digest('hex');
        if (sum !== t.checkpoint.sha256) throw new ConflictError(`checkpoint of ${t.id} does not match its checksum`);
        unpackDir(archive, work);
        // Docker runs the command as nobody on the host; the process runner maps the node's own uid
        // to the sandbox user, so there the restored files keep the node's ownership.
        if (sandbox.kind === 'docker' && process.getuid?.() === 0) chownTree(work, SANDBOX_UID);
      } catch (err) {
        return {exitCode: null, status: 'error', detail: `checkpoint restore failed: ${(err as Error).message}`};
      }
    }
    try {
      await this.deps.store.mutate(t.id, (x) => transition(x, {type: 'start', node: this.deps.self, attempt: run.attempt}, this.deps.clock()));
    } catch (err) {
      this.deps.log.info('task not started', {task: t.id, attempt: run.attempt, err: (err as Error).message});
      return undefined;
    }
    this.stats.started++;
    if (run.controller.signal.aborted) return undefined;
    let env: Record<string, string>;
    try {
      env = await this.deps.resolveEnv(t.spec.env);
    } catch (err) {
      return {exitCode: null, status: 'error', detail: `vault: ${(err as Error).message}`};
    }
    const out = {stdout: fs.openSync(path.join(dir, 'stdout'), 'a', 0o600), stderr: fs.openSync(path.join(dir, 'stderr'), 'a', 0o600)};
    // Output is stored redacted: a task that prints a secret it was given leaves no trace of it.
    const redact = {stdout: new StreamRedactor(), stderr: new StreamRedactor()};
    let streamed = false;
    let r: SandboxResult;
    try {
      r = await sandbox.run(
        {
          command: t.spec.command,
          ...(t.spec.image ? {image: t.spec.image} : {}),
          workDir: work,
          env,
          limits: {cpus: Math.max(0.01, t.spec.requires.cores), memoryBytes: Math.max(16 * 1024 * 1024, t.spec.requires.memoryBytes), pids: PIDS_LIMIT},
          timeoutMs: t.spec.timeoutMs,
          maxOutputBytes: MAX_OUTPUT_BYTES,
          allowEgress: t.spec.allowEgress,
        },
        {
          signal: run.controller.signal,
          onOutput: (stream, chunk) => {
            streamed = true;
            fs.writeSync(out[stream], redact[stream].push(chunk));
          },
        },
      );
      // A runner that does not stream: the logs appear when the run ends.
      if (!streamed) {
        fs.writeSync(out.stdout, redact.stdout.push(r.stdout));
        fs.writeSync(out.stderr, redact.stderr.push(r.stderr));
      }
      fs.writeSync(out.stdout, redact.stdout.end());
      fs.writeSync(out.stderr, redact.stderr.end());
    } finally {
      fs.closeSync(out.stdout);
      fs.closeSync(out.stderr);
    }
    run.finished = true;
    const screen = screenOutput(r.stdout, r.stderr);
    return {exitCode: r.exitCode, status: r.status, ...(r.detail ? {detail: processSecrets.redact(r.detail)} : {}), ...(screen ? {screen} : {})};
  }

  /** Records the result; retried while there is no quorum, given up when the state refuses it. */
  private async report(id: string, attempt: number, result: TaskResult): Promise<void> {
    for (let delay = 200; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.deps.store.mutate(id, (t) => transition(t, {type: 'finish', node: this.deps.self, attempt, result}, this.deps.clock()));
        this.stats.reported++;
        return;
      } catch (err) {
        if (err instanceof TransitionRefusedError || err instanceof NotFoundError) {
          this.stats.lateRefused++;
          this.deps.log.info('late task result refused', {task: id, attempt, reason: err.message});
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * Stops the running attempt and archives its work dir for a teleport. Refused when the attempt is
   * not running here or already finished on its own (its result stands).
   */
  async checkpoint(id: string, attempt: number): Promise<{bytes: number; sha256: string}> {
    const run = this.runs.get(id);
    if (!run || run.attempt !== attempt || run.stopping) throw new ConflictError(`task ${id} attempt ${attempt} is not running on this node`);
    if (run.finished) throw new ConflictError(`task ${id} finished before it could be checkpointed`);
    run.stopping = 'checkpoint';
    this.checkpointed.set(`${id}/${attempt}`, this.deps.clock() + CHECKPOINT_GRACE_MS);
    run.controller.abort();
    await run.done;
    const archive = packDir(path.join(this.attemptDir(id, attempt), 'work'));
    const file = path.join(this.attemptDir(id, attempt), 'checkpoint');
    fs.writeFileSync(file, archive, {mode: 0o600});
    this.stats.checkpoints++;
    return {bytes: archive.length, sha256: crypto.createHash('sha256').update(archive).digest('hex')};
  }

  /** A slice of a checkpoint archive held here. */
  readCheckpoint(id: string, attempt: number, offset: number, length: number): {data: Buffer; total: number} {
    return readSlice(path.join(this.attemptDir(id, attempt), 'checkpoint'), offset, length, `no checkpoint of task ${id} attempt ${attempt} on this node`);
  }

  /** A slice of an attempt's captured output held here. */
  readLog(id: string, attempt: number, stream: 'stdout' | 'stderr', offset: number, length: number): {data: Buffer; total: number} {
    return readSlice(path.join(this.attemptDir(id, attempt), stream), offset, length, `no output of task ${id} attempt ${attempt} on this node`);
  }
}

/** Screens what the task printed (what a model or tool downstream would read) with the sanitizer. */
function screenOutput(stdout: Buffer, stderr: Buffer): TaskResult['screen'] {
  const text = `${stdout.subarray(0, SCREEN_BYTES).toString('utf8')}\n${stderr.subarray(0, SCREEN_BYTES).toString('utf8')}`;
  const r = sanitize(text, {direction: 'output', secrets: processSecrets});
  if (r.verdict === 'allow') return undefined;
  return {verdict: r.verdict, rules: [...new Set(r.findings.filter((f) => f.action !== 'allow').map((f) => f.rule))].slice(0, 16)};
}

function readSlice(file: string, offset: number, length: number, missing: string): {data: Buffer; total: number} {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    throw new NotFoundError(missing);
  }
  try {
    const total = fs.fstatSync(fd).size;
    const n = Math.max(0, Math.min(length, total - offset));
    const data = Buffer.alloc(n);
    if (n > 0) fs.readSync(fd, data, 0, n, offset);
    // `data` last: the transport then encrypts it where it lies instead of copying it (encodeEnvelopePieces).
    return {total, data};
  } finally {
    fs.closeSync(fd);
  }
}

function chownTree(dir: string, uid: number): void {
  fs.lchownSync(dir, uid, uid);
  for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid);
    else fs.lchownSync(p, uid, uid);
  }
}
