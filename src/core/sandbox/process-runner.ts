/**
 * The Sandbox contract without a Docker engine: Linux namespaces through bubblewrap (bwrap).
 *
 * Isolation: `--unshare-all` (user, pid, net, ipc, uts, cgroup namespaces; the net namespace has only
 * its own loopback, so there is no network; with egress rules it is instead a prepared namespace where
 * only the allowed host:port pairs lead anywhere, see egress-process.ts), the host's root read-only,
 * the work dir bound read-write on /work, a private /tmp, /proc and /dev, all capabilities dropped, a
 * cleared environment, and the command running as uid/gid 65534 inside its user namespace.
 *
 * Limits:
 * - pids and memory: a per-run cgroup (v2 or v1, see process-cgroup.ts) when /sys/fs/cgroup is
 *   writable; then an OOM kill is reported as status 'oom' (read from the cgroup's OOM counter).
 *   Otherwise rlimits via prlimit: RLIMIT_NPROC (per real user, so it only bites when we are not
 *   root: as root the user namespace maps the sandbox to host root, which RLIMIT_NPROC exempts) and
 *   RLIMIT_AS for memory (allocation failures then show up as the command's own exit code; we do not
 *   guess 'oom' from them).
 * - CPU (limits.cpus): not enforced yet.
 * - time and output: enforced here; the whole process group is SIGKILLed, `--die-with-parent` and the
 *   pid namespace take everything inside with it, and the cgroup (if any) is emptied and removed.
 */
import {spawn} from 'node:child_process';
import {stat} from 'node:fs/promises';
import {resolve} from 'node:path';
import {openProcessEgress, type ProcessEgress} from './egress-process.js';
import {EgressRuleError, parseEgressRules, planEgress, type EgressPlan} from './egress-rules.js';
import {createRunCgroup, type RunCgroup} from './process-cgroup.js';
import type {Availability, Sandbox, SandboxResult, SandboxRunOptions, SandboxSpec, SandboxStatus} from './types.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SANDBOX_ID = '65534';
/** Every namespace unshared (network included), mapped to nobody, gone with its parent: the probe and the run use the same. */
const ISOLATION = ['--unshare-all', '--unshare-user', '--uid', SANDBOX_ID, '--gid', SANDBOX_ID, '--die-with-parent'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ProcessRunnerOptions {
  /** The bubblewrap binary; default `bwrap` from PATH. */
  bwrapPath?: string;
  /** The prlimit binary; default `prlimit` from PATH. */
  prlimitPath?: string;
  /** Set false to skip cgroups and use rlimits only (tests, or hosts where cgroups misbehave). */
  useCgroups?: boolean;
}

function emptyResult(status: SandboxStatus, detail: string): SandboxResult {
  return {
    exitCode: null,
    status,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    stdoutTruncated: false,
    stderrTruncated: false,
    durationMs: 0,
    detail,
  };
}

export class ProcessRunner implements Sandbox {
  readonly kind = 'process' as const;
  private readonly bwrap: string;
  private readonly prlimit: string;
  private readonly useCgroups: boolean;

  constructor(options: ProcessRunnerOptions = {}) {
    this.bwrap = options.bwrapPath ?? 'bwrap';
    this.prlimit = options.prlimitPath ?? 'prlimit';
    this.useCgroups = options.useCgroups ?? true;
  }

  async available(): Promise<Availability> {
    if (process.platform !== 'linux') return {ok: false, reason: 'the process runner needs Linux namespaces'};
    const probe = (cmd: string, args: string[]) =>
      new Promise<string | null>((done) => {
        let stderr = '';
        let child;
        try {
          child = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'pipe']});
        } catch (err) {
          done(`${cmd}: ${(err as Error).message}`);
          return;
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.stderr.on('data', (d: Buffer) => {
          if (stderr.length < 500) stderr += d.toString();
        });
        child.on('error', (err) => {
          clearTimeout(timer);
          done(`${cmd}: ${err.message}`);
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          if (code === 0) done(null);
          else done(`${cmd} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n')[0] ?? ''}`);
        });
      });
    const bw = await probe(this.bwrap, [
      ...ISOLATION,
      '--ro-bind',
      '/',
      '/',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--',
      'true',
    ]);
    if (bw !== null) return {ok: false, reason: bw};
    const pl = await probe(this.prlimit, ['--nofile=1024', 'true']);
    if (pl !== null) return {ok: false, reason: pl};
    return {ok: true};
  }

  async run(spec: SandboxSpec, options: SandboxRunOptions = {}): Promise<SandboxResult> {
    if (spec.command.length === 0) return emptyResult('error', 'empty command');
    for (const key of Object.keys(spec.env)) {
      if (!ENV_NAME.test(key)) return emptyResult('error', `invalid environment variable name: ${key}`);
      if (spec.env[key]?.includes('\0')) return emptyResult('error', `environment variable ${key} contains NUL`);
    }
    const workDir = resolve(spec.workDir);
    try {
      if (!(await stat(workDir)).isDirectory()) return emptyResult('error', 'workDir is not a directory');
    } catch {
      return emptyResult('error', 'workDir does not exist');
    }
    let plan: EgressPlan | null = null;
    try {
      if (spec.allowEgress.length > 0) plan = await planEgress(parseEgressRules(spec.allowEgress));
    } catch (err) {
      return emptyResult('error', err instanceof EgressRuleError ? err.message : `egress rules: ${(err as Error).message}`);
    }
    if (options.signal?.aborted) return emptyResult('killed', 'aborted before start');

    let egress: ProcessEgress | null = null;
    let cgroup: RunCgroup | null = null;
    try {
      if (plan !== null) {
        try {
          egress = await openProcessEgress(plan);
        } catch (err) {
          return emptyResult('error', `egress setup failed: ${(err as Error).message}`);
        }
        if (options.signal?.aborted) return emptyResult('killed', 'aborted before start');
      }
      cgroup = this.useCgroups ? await createRunCgroup(spec.limits.pids, spec.limits.memoryBytes) : null;
      return await this.execute(spec, workDir, cgroup, egress, options.signal, options.onOutput);
    } finally {
      await cgroup?.destroy();
      await egress?.close();
    }
  }

  private buildArgv(spec: SandboxSpec, workDir: string, cgroup: RunCgroup | null, egress: ProcessEgress | null): string[] {
    const env: Record<string, string> = {PATH: DEFAULT_PATH, ...spec.env};
    const bwrapArgs = [
      this.bwrap,
      ...ISOLATION,
      '--new-session',
      '--ro-bind',
      '/',
      '/',
      ...(egress?.bwrapArgs ?? []),
      '--bind',
      workDir,
      '/work',
      '--chdir',
      '/work',
      '--tmpfs',
      '/tmp',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--cap-drop',
      'ALL',
      '--clearenv',
    ];
    for (const [k, v] of Object.entries(env)) bwrapArgs.push('--setenv', k, v);
    bwrapArgs.push('--', ...spec.command);

    const rlimits = ['--core=0'];
    if (!cgroup?.pidsLimited && spec.limits.pids > 0) rlimits.push(`--nproc=${Math.floor(spec.limits.pids)}`);
    if (!cgroup?.memoryLimited && spec.limits.memoryBytes > 0) {
      rlimits.push(`--as=${Math.floor(spec.limits.memoryBytes)}`);
    }
    // With egress, bwrap starts inside the prepared namespace (`ip netns exec` execs, so the pid stays ours).
    const argv = [...(egress?.enter ?? []), this.prlimit, ...rlimits, '--', ...bwrapArgs];
    if (cgroup === null) return argv;
    // Join the cgroup(s) before anything else runs, so every descendant is counted from the start.
    const join = 'for d in $SWARM_SANDBOX_CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 125; done; exec "$@"';
    return ['/bin/sh', '-c', join, 'sh', ...argv];
  }

  private execute(
    spec: SandboxSpec,
    workDir: string,
    cgroup: RunCgroup | null,
    egress: ProcessEgress | null,
    signal: AbortSignal | undefined,
    onOutput: SandboxRunOptions['onOutput'],
  ): Promise<SandboxResult> {
    const argv = this.buildArgv(spec, workDir, cgroup, egress);
    const started = Date.now();
    return new Promise<SandboxResult>((done) => {
      const out = {stdout: [] as Buffer[], stderr: [] as Buffer[]};
      const size = {stdout: 0, stderr: 0};
      const truncated = {stdout: false, stderr: false};
      let status: SandboxStatus | null = null;
      let detail: string | undefined;
      let finished = false;
      // Once the command has exited on its own, a late abort or timeout must not relabel its result.
      let exited = false;

      const child = spawn(argv[0]!, argv.slice(1), {
        detached: true, // own process group, so we can kill the whole tree
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {PATH: process.env.PATH ?? DEFAULT_PATH, SWARM_SANDBOX_CGROUPS: cgroup?.procDirs.join(' ') ?? ''},
      });

      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* group already gone */
        }
      };
      const stop = (why: SandboxStatus, text: string) => {
        if (status === null) {
          status = why;
          detail = text;
        }
        killGroup();
      };

      const timer = setTimeout(() => !exited && stop('timeout', `killed after ${spec.timeoutMs} ms`), spec.timeoutMs);
      const onAbort = () => !exited && stop('killed', 'aborted by the caller');
      signal?.addEventListener('abort', onAbort, {once: true});

      const collect = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
        if (truncated[name]) return;
        const room = spec.maxOutputBytes - size[name];
        if (chunk.length > room) {
          if (room > 0) {
            out[name].push(chunk.subarray(0, room));
            onOutput?.(name, chunk.subarray(0, room));
          }
          size[name] = spec.maxOutputBytes;
          truncated[name] = true;
          stop('output_limit', `${name} passed ${spec.maxOutputBytes} bytes`);
          return;
        }
        out[name].push(chunk);
        size[name] += chunk.length;
        onOutput?.(name, chunk);
      };
      child.stdout!.on('data', collect('stdout'));
      child.stderr!.on('data', collect('stderr'));

      const finish = async (exitCode: number | null, errorDetail?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        killGroup(); // anything left in bwrap's group (normally nothing)
        const durationMs = Date.now() - started;
        if (errorDetail !== undefined && status === null) {
          status = 'error';
          detail = errorDetail;
        }
        if (status === null && cgroup !== null && (await cgroup.oomKilled())) {
          status = 'oom';
          detail = `memory limit of ${spec.limits.memoryBytes} bytes reached`;
        }
        if (status === null && exitCode === 125 && cgroup !== null && size.stdout === 0) {
          // Our cgroup join failed before bwrap started (125 is reserved for that in the wrapper).
          const err = Buffer.concat(out.stderr).toString();
          if (err.includes('cgroup.procs')) {
            status = 'error';
            detail = 'could not join the run cgroup';
          }
        }
        done({
          exitCode: status === null ? exitCode : null, // an OOM kill is not exiting on its own
          status,
          stdout: Buffer.concat(out.stdout),
          stderr: Buffer.concat(out.stderr),
          stdoutTruncated: truncated.stdout,
          stderrTruncated: truncated.stderr,
          durationMs,
          ...(detail !== undefined ? {detail} : {}),
        });
      };

      child.on('error', (err) => void finish(null, `could not start the sandbox: ${err.message}`));
      child.on('exit', (code) => {
        exited = true;
        // Streams may still be held by stray descendants; give them a moment, then stop waiting.
        let closed = false;
        const grace = setTimeout(() => {
          if (!closed) {
            child.stdout?.destroy();
            child.stderr?.destroy();
            void finish(code);
          }
        }, 2_000);
        child.on('close', () => {
          closed = true;
          clearTimeout(grace);
          void finish(code);
        });
      });
    });
  }
}
