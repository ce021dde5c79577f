/**
 * The sandbox contract every runner implements (docker, process). A leaf module: it imports nothing
 * of ours. Untrusted code runs with no network unless an egress rule names host:port, with only its
 * work dir writable, under CPU, memory, pid, time and output limits.
 */
export interface SandboxLimits {
  /** CPU share in cores (e.g. 0.5). */
  cpus: number;
  memoryBytes: number;
  /** Most processes/threads at once (fork bombs stop here). */
  pids: number;
}

export interface SandboxSpec {
  command: string[];
  /** docker: the image; process: ignored (the host's root, read-only). */
  image?: string;
  /** Host directory mounted read-write as the sandbox's work dir (/work); the only writable place. */
  workDir: string;
  env: Record<string, string>;
  limits: SandboxLimits;
  /** Wall-clock limit; the sandbox is killed when it passes. */
  timeoutMs: number;
  /** Per stream; beyond it output is dropped and the run ends with status output_limit. */
  maxOutputBytes: number;
  /** host:port pairs the sandbox may reach; empty = no network at all. */
  allowEgress: string[];
}

export type SandboxStatus = 'timeout' | 'oom' | 'output_limit' | 'killed' | 'error';

export interface SandboxResult {
  /** The command's exit code; null when it did not exit on its own. */
  exitCode: number | null;
  /** null for a normal exit (any exit code); otherwise why the run was stopped. */
  status: SandboxStatus | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
  /** One line for operators when status is set (never secret values). */
  detail?: string;
}

export interface SandboxRunOptions {
  signal?: AbortSignal;
  /** Output as it arrives (within maxOutputBytes), e.g. for `task logs -f`; the result still has all of it. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export type Availability = {ok: true} | {ok: false; reason: string};

export interface Sandbox {
  readonly kind: 'docker' | 'process';
  /** Whether this runner can work on this machine, and why not. */
  available(): Promise<Availability>;
  /** Runs one command to completion; never throws for what the command does (that is the result). */
  run(spec: SandboxSpec, options?: SandboxRunOptions): Promise<SandboxResult>;
}

export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}
