import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {UsageError} from '../errors.js';
import type {Sandbox, SandboxResult, SandboxSpec} from './types.js';

export type RunnerChoice = 'docker' | 'process' | 'auto';

/** Loads a runner on demand (dockerode and friends stay out of start-up for every other command). */
export async function loadRunner(kind: 'docker' | 'process'): Promise<Sandbox> {
  if (kind === 'docker') {
    const {DockerRunner} = await import('./docker-runner.js');
    return new DockerRunner({});
  }
  const {ProcessRunner} = await import('./process-runner.js');
  return new ProcessRunner();
}

/** `auto`: docker when an engine answers, else the process runner; an unavailable explicit choice is refused with the reason. */
export async function pickRunner(choice: RunnerChoice): Promise<Sandbox> {
  const order: ('docker' | 'process')[] = choice === 'auto' ? ['docker', 'process'] : [choice];
  const reasons: string[] = [];
  for (const kind of order) {
    const r = await loadRunner(kind);
    const a = await r.available();
    if (a.ok) return r;
    reasons.push(`${kind}: ${a.reason}`);
  }
  throw new UsageError(`no sandbox runner can work here (${reasons.join('; ')})`);
}

/**
 * Runs one command in a sandbox with no node (`swarm sandbox run`). Without a work dir a temporary one
 * is made and removed afterwards.
 */
export async function runLocal(choice: RunnerChoice, spec: Omit<SandboxSpec, 'workDir'> & {workDir?: string}, options: {signal?: AbortSignal} = {}): Promise<SandboxResult & {runner: string}> {
  const runner = await pickRunner(choice);
  if (runner.kind === 'docker' && !spec.image) throw new UsageError('the docker runner needs --image');
  const temp = spec.workDir ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-sandbox-'));
  const workDir = path.resolve(spec.workDir ?? temp!);
  if (!fs.existsSync(workDir) || !fs.statSync(workDir).isDirectory()) throw new UsageError(`--work-dir ${workDir} is not a directory`);
  // The sandboxed user is unprivileged: it must be able to write its work dir.
  if (temp) fs.chmodSync(temp, 0o777);
  try {
    const result = await runner.run({...spec, workDir}, options);
    return {...result, runner: runner.kind};
  } finally {
    if (temp) fs.rmSync(temp, {recursive: true, force: true});
  }
}
