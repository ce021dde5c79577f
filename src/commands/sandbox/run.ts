import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {parseDurationMs} from '../../core/config/duration.js';
import {parseSizeBytes} from '../../core/config/size.js';
import {UsageError} from '../../core/errors.js';
import {parseEnvFlags, sandboxExitCode} from '../../cli/flags.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import {processSecrets} from '../../core/log/redactor.js';
import {VAULT_REF} from '../../core/vault/vault-service.js';

export interface SandboxRunOutput {
  runner: string;
  exitCode: number | null;
  status: string | null;
  detail?: string;
  durationMs: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

export default class SandboxRun extends SwarmCommand {
  static override summary = 'Run one command in a sandbox, here, without a node.';
  static override description = `No network unless --allow-egress names host:port; only the work dir is writable; CPU, memory, process, time and output limits.
The command's stdout and stderr are passed through; swarm exits with the command's exit code when it ran to its end.
When the sandbox stopped it: 7 timeout, 5 a limit was hit (memory, output, processes) or it was killed, 1 sandbox error, 2 bad flag.`;
  static override examples = [
    '<%= config.bin %> sandbox run --runner process -- sh -c "echo hello > out.txt"',
    '<%= config.bin %> sandbox run --image swarm-busybox:test --memory 64m --timeout 10s -- sh -c "ls /work"',
    '<%= config.bin %> sandbox run --json --runner process -- id',
  ];
  static override strict = false;
  static override flags = {
    runner: Flags.option({options: ['auto', 'docker', 'process'] as const, default: 'auto', summary: 'Which runner (auto: docker if an engine answers).', env: 'SWARM_RUNNER'})(),
    image: Flags.string({summary: 'Image for the docker runner.', env: 'SWARM_IMAGE'}),
    'work-dir': Flags.directory({summary: 'Host directory mounted as /work (default: a temporary one, removed after).', env: 'SWARM_WORK_DIR'}),
    cpus: Flags.string({summary: 'CPU share in cores.', default: '1', env: 'SWARM_CPUS'}),
    memory: Flags.string({summary: 'Memory limit, e.g. 256m.', default: '256m', env: 'SWARM_MEMORY'}),
    pids: Flags.integer({summary: 'Most processes at once.', default: 64, min: 1, env: 'SWARM_PIDS'}),
    timeout: Flags.string({summary: 'Wall-clock limit.', default: '60s', env: 'SWARM_TIMEOUT'}),
    'max-output': Flags.string({summary: 'Captured output limit per stream.', default: '1m', env: 'SWARM_MAX_OUTPUT'}),
    env: Flags.string({summary: 'Environment variable K=V for the command (repeatable); K=vault:NAME takes it from the vault.', multiple: true}),
    ...vaultFlags,
    'allow-egress': Flags.string({summary: 'host:port the command may reach (repeatable).', multiple: true}),
  };

  async run(): Promise<SandboxRunOutput> {
    const {flags, argv} = await this.parse(SandboxRun);
    const command = (argv as string[]).filter((a) => a !== '--');
    if (command.length === 0) throw new UsageError('give the command after --, e.g. swarm sandbox run -- echo hi');
    const cpus = Number(flags.cpus);
    if (!(cpus > 0 && cpus <= 1024)) throw new UsageError(`--cpus ${flags.cpus}: expected a positive number of cores`);
    const env = await resolveVaultRefs(parseEnvFlags(flags.env), flags, this.dataDir(flags));
    const {runLocal} = await import('../../core/sandbox/run-local.js');
    const controller = new AbortController();
    const r = await runLocal(
      flags.runner,
      {
        command,
        ...(flags.image ? {image: flags.image} : {}),
        ...(flags['work-dir'] ? {workDir: flags['work-dir']} : {}),
        env,
        limits: {cpus, memoryBytes: parseSizeBytes(flags.memory, '--memory'), pids: flags.pids},
        timeoutMs: parseDurationMs(flags.timeout, '--timeout'),
        maxOutputBytes: parseSizeBytes(flags['max-output'], '--max-output'),
        allowEgress: flags['allow-egress'] ?? [],
      },
      {signal: controller.signal},
    );
    // Secrets given by vault reference never come back out: output passes through the redactor.
    const clean = (b: Buffer): string => processSecrets.redact(b.toString('utf8'));
    const out: SandboxRunOutput = {
      runner: r.runner,
      exitCode: r.exitCode,
      status: r.status,
      ...(r.detail ? {detail: r.detail} : {}),
      durationMs: r.durationMs,
      stdout: clean(r.stdout),
      stderr: clean(r.stderr),
      stdoutTruncated: r.stdoutTruncated,
      stderrTruncated: r.stderrTruncated,
    };
    if (!this.jsonEnabled()) {
      process.stdout.write(processSecrets.size > 0 ? out.stdout : r.stdout);
      process.stderr.write(processSecrets.size > 0 ? out.stderr : r.stderr);
      if (r.status) process.stderr.write(`swarm: sandbox stopped the command: ${r.status}${r.detail ? ` (${r.detail})` : ''}\n`);
    }
    process.exitCode = sandboxExitCode(r.status, r.exitCode);
    return out;
  }
}

/** `K=vault:NAME` values from the vault (the running node's, or the data dir's file with the passphrase). */
async function resolveVaultRefs(env: Record<string, string>, flags: {'passphrase-file'?: string}, dataDir: string): Promise<Record<string, string>> {
  const refs = Object.entries(env).filter(([, v]) => VAULT_REF.test(v));
  if (refs.length === 0) return env;
  return withVault({timeout: '10s', ...(flags['passphrase-file'] ? {'passphrase-file': flags['passphrase-file']} : {})}, dataDir, async (v) => {
    const out = {...env};
    for (const [k, ref] of refs) out[k] = await v.get(VAULT_REF.exec(ref)![1]!);
    return out;
  });
}
