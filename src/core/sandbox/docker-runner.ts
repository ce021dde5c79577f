/**
 * The docker sandbox: one throwaway container per run, created with dockerode. No network
 * (`NetworkMode: none`), read-only root, the work dir bind-mounted read-write at /work, a small tmpfs
 * at /tmp, all capabilities dropped, no-new-privileges, user nobody (65534:65534), and pid, memory
 * (no swap) and CPU limits. stdout and stderr are captured separately up to maxOutputBytes each.
 * The container is always removed, whatever happens.
 *
 * The run's user is nobody, so the host work dir must be writable by uid 65534 (e.g. chmod 0777 or
 * chown 65534) for the command to write in /work.
 *
 * With egress rules the task joins the network namespace of a holder container instead, where only
 * the allowed host:port pairs lead anywhere (see egress-docker.ts); that needs root and a local engine.
 */
import {Writable} from 'node:stream';

import {openDockerEgress, type DockerEgress} from './egress-docker.js';
import {demux, EngineClient, engineSocket} from './engine-client.js';
import type {Engine, EngineContainer} from './engine-client.js';
import {EgressRuleError, parseEgressRules, planEgress, type EgressPlan} from './egress-rules.js';
import type {Availability, Sandbox, SandboxResult, SandboxRunOptions, SandboxSpec, SandboxStatus} from './types.js';

/** Label set on every container this runner creates (to find leftovers). */
export const SANDBOX_LABEL = 'swarm.sandbox';
const SANDBOX_USER = '65534:65534';
// mode=1777: the sandbox runs as nobody, and /tmp must be writable for it (sticky, as /tmp always is).
const TMPFS_OPTIONS = 'rw,noexec,nosuid,nodev,size=16m,mode=1777';
/** How long to wait for the container to exit after it was killed before giving up on it. */
const KILL_GRACE_MS = 10_000;
/** How long to wait for the attached output to drain after the container exited. */
const DRAIN_MS = 2_000;

interface Capture {
  sink: Writable;
  chunks: Buffer[];
  size: number;
  truncated: boolean;
}

function capture(maxBytes: number, onLimit: () => void, onChunk?: (chunk: Buffer) => void): Capture {
  const c: Capture = {chunks: [], size: 0, truncated: false, sink: undefined as unknown as Writable};
  c.sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const room = maxBytes - c.size;
      if (chunk.length <= room) {
        c.chunks.push(chunk);
        c.size += chunk.length;
        onChunk?.(chunk);
      } else {
        if (room > 0) {
          c.chunks.push(chunk.subarray(0, room));
          c.size += room;
          onChunk?.(chunk.subarray(0, room));
        }
        if (!c.truncated) {
          c.truncated = true;
          onLimit();
        }
      }
      done(); // keep draining so the engine never blocks on us
    },
  });
  return c;
}

function errText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as {statusCode?: number; json?: {message?: string}; message?: string};
    if (e.json?.message) return e.json.message;
    if (e.message) return e.message.replace(/\s+/g, ' ').trim();
  }
  return String(err);
}

function delay(ms: number): {promise: Promise<'timer'>; cancel: () => void} {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<'timer'>((resolve) => {
    t = setTimeout(() => resolve('timer'), ms);
  });
  return {promise, cancel: () => clearTimeout(t)};
}

export class DockerRunner implements Sandbox {
  readonly kind = 'docker' as const;
  private readonly docker: Engine;
  private readonly where: string;

  constructor(components: {engine?: Engine}, init: {socketPath?: string} = {}) {
    this.where = init.socketPath ?? process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    let engine = components.engine;
    if (!engine) {
      try {
        engine = new EngineClient(engineSocket(init.socketPath));
      } catch (err) {
        // An engine we cannot talk to: available() says why.
        const why = err as Error;
        engine = {ping: () => Promise.reject(why), createContainer: () => Promise.reject(why)};
      }
    }
    this.docker = engine;
  }

  async available(): Promise<Availability> {
    const timer = delay(5_000);
    try {
      const res = await Promise.race([this.docker.ping(), timer.promise]);
      if (res === 'timer') return {ok: false, reason: `docker engine at ${this.where} did not answer within 5 s`};
      return {ok: true};
    } catch (err) {
      const code = (err as {code?: string}).code;
      if (code === 'ENOENT') return {ok: false, reason: `no docker socket at ${this.where}`};
      if (code === 'EACCES' || code === 'EPERM')
        return {ok: false, reason: `permission denied on ${this.where} (is this user in the docker group?)`};
      if (code === 'ECONNREFUSED') return {ok: false, reason: `docker engine at ${this.where} refused the connection`};
      return {ok: false, reason: `docker engine at ${this.where} unusable: ${errText(err)}`};
    } finally {
      timer.cancel();
    }
  }

  async run(spec: SandboxSpec, options: SandboxRunOptions = {}): Promise<SandboxResult> {
    const started = Date.now();
    const result = (
      status: SandboxStatus | null,
      exitCode: number | null,
      detail?: string,
      out?: Capture,
      err?: Capture,
    ): SandboxResult => ({
      exitCode,
      status,
      stdout: out ? Buffer.concat(out.chunks) : Buffer.alloc(0),
      stderr: err ? Buffer.concat(err.chunks) : Buffer.alloc(0),
      stdoutTruncated: out?.truncated ?? false,
      stderrTruncated: err?.truncated ?? false,
      durationMs: Date.now() - started,
      ...(detail !== undefined ? {detail} : {}),
    });

    if (!spec.image) return result('error', null, 'no image given for the docker runner');
    if (spec.command.length === 0) return result('error', null, 'empty command');
    let plan: EgressPlan | null = null;
    try {
      if (spec.allowEgress.length > 0) plan = await planEgress(parseEgressRules(spec.allowEgress));
    } catch (e) {
      return result('error', null, e instanceof EgressRuleError ? e.message : `egress rules: ${errText(e)}`);
    }
    const signal = options.signal;
    if (signal?.aborted) return result('killed', null, 'aborted before start');

    let stopReason: SandboxStatus | null = null;
    let container: EngineContainer | undefined;
    let exited = false;
    const stop = (reason: SandboxStatus): void => {
      if (stopReason !== null || exited || !container) return;
      stopReason = reason;
      container.kill().catch(() => {
        /* already gone or exiting: wait() reports it */
      });
    };
    const onOutput = options.onOutput;
    const out = capture(spec.maxOutputBytes, () => stop('output_limit'), onOutput && ((c) => onOutput('stdout', c)));
    const err = capture(spec.maxOutputBytes, () => stop('output_limit'), onOutput && ((c) => onOutput('stderr', c)));
    const onAbort = (): void => stop('killed');
    let timeout: NodeJS.Timeout | undefined;
    let egress: DockerEgress | undefined;

    try {
      if (plan !== null) {
        try {
          egress = await openDockerEgress(this.docker, plan, {
            image: spec.image,
            user: SANDBOX_USER,
            labels: {[SANDBOX_LABEL]: '1'},
            timeoutMs: spec.timeoutMs,
          });
        } catch (e) {
          return result('error', null, `egress setup failed: ${errText(e)}`);
        }
        if (signal?.aborted) return result('killed', null, 'aborted before start');
      }
      container = await this.docker.createContainer({
        Image: spec.image,
        Cmd: spec.command,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        WorkingDir: '/work',
        User: SANDBOX_USER,
        Labels: {[SANDBOX_LABEL]: '1'},
        Tty: false,
        OpenStdin: false,
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        NetworkDisabled: egress === undefined,
        HostConfig: {
          NetworkMode: egress?.networkMode ?? 'none',
          ReadonlyRootfs: true,
          Binds: [`${spec.workDir}:/work:rw`],
          Tmpfs: {'/tmp': TMPFS_OPTIONS},
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          PidsLimit: spec.limits.pids,
          Memory: spec.limits.memoryBytes,
          MemorySwap: spec.limits.memoryBytes,
          NanoCpus: Math.round(spec.limits.cpus * 1e9),
          AutoRemove: false,
          // Output comes through attach; no engine-side log (a flood would fill the disk and slow kill).
          LogConfig: {Type: 'none', Config: {}},
        },
      });
      const stream = await container.attach();
      const drained = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      demux(stream, out.sink, err.sink);

      // 'next-exit': registered before start so a fast exit is not missed (the default returns at once for a created container)
      const waited = container.wait('next-exit');
      waited.catch(() => undefined);
      await container.start();
      signal?.addEventListener('abort', onAbort, {once: true});
      if (signal?.aborted) onAbort();
      timeout = setTimeout(() => stop('timeout'), spec.timeoutMs);

      // Wait for the exit; once we killed it, give the engine a bounded grace.
      const exit: {code: number | null} = {code: null};
      let gone = false;
      const waitExit = waited.then((r: {StatusCode?: number}) => {
        exited = true;
        exit.code = typeof r?.StatusCode === 'number' ? r.StatusCode : null;
      });
      for (;;) {
        // Only a timer started after the kill is the kill's grace; the 1 s poll running when stop()
        // fired must not count as it.
        const killGrace = stopReason !== null;
        const grace = delay(killGrace ? KILL_GRACE_MS : 1_000);
        const winner = await Promise.race([waitExit.then(() => 'exit' as const), grace.promise]);
        grace.cancel();
        if (winner === 'exit') break;
        if (killGrace) {
          // Killed but not gone after the grace: give up; the finally removes it with force.
          gone = true;
          break;
        }
      }
      clearTimeout(timeout);

      const drain = delay(DRAIN_MS);
      await Promise.race([drained, drain.promise]);
      drain.cancel();

      if (gone) return result(stopReason, null, `container did not exit after kill (${stopReason})`, out, err);
      const info = await container.inspect().catch(() => undefined);
      if (stopReason === null && info?.State?.OOMKilled) {
        return result('oom', exit.code === 137 ? null : exit.code,
          `out of memory (limit ${spec.limits.memoryBytes} bytes)`, out, err);
      }
      switch (stopReason as SandboxStatus | null) {
        case 'timeout':
          return result('timeout', null, `killed after ${spec.timeoutMs} ms`, out, err);
        case 'output_limit':
          return result('output_limit', null, `output passed ${spec.maxOutputBytes} bytes`, out, err);
        case 'killed':
          return result('killed', null, 'aborted by the caller', out, err);
        default:
          return result(null, exit.code, undefined, out, err);
      }
    } catch (e) {
      return result('error', null, `docker: ${errText(e)}`, out, err);
    } finally {
      clearTimeout(timeout);
      signal?.removeEventListener('abort', onAbort);
      if (container) {
        await container.remove().catch(() => {
          /* already removed */
        });
      }
      await egress?.close();
    }
  }
}
