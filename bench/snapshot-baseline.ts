/**
 * The baseline the snapshot benchmark compares swarm with: GNU `tar` + `cp` of the same state on the
 * same disk, durable at the end like swarm (which fsyncs what it keeps):
 *  - create: `tar -cf` an archive, `cp` it into two mirror dirs (swarm's two copies of each part),
 *    `rm` the archive (swarm drops its payload too), `sync -f` (syncfs: both copies on disk);
 *  - restore: `cp` one copy back, `tar -xf` it into a fresh dir, `rm` the copy, `sync -f`.
 * The scratch archive is removed before the sync, so its pages need never reach the disk (swarm
 * does not fsync its scratch payload either): the baseline writes only what it keeps.
 * Each operation is one bash script; bash's $EPOCHREALTIME between the commands times the steps
 * without extra processes, and the total excludes starting bash itself.
 */
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const CREATE_SCRIPT = [
  'set -e; t0=$EPOCHREALTIME',
  'tar -cf "$2/archive.tar" -C "$1" .; t1=$EPOCHREALTIME',
  'cp "$2/archive.tar" "$3/"; cp "$2/archive.tar" "$4/"; t2=$EPOCHREALTIME',
  'rm "$2/archive.tar"; t3=$EPOCHREALTIME',
  'sync -f "$3"; t4=$EPOCHREALTIME',
  'echo $t0 $t1 $t2 $t3 $t4',
].join('\n');
const CREATE_STEPS = ['tar -cf', 'cp x2', 'rm archive', 'sync -f'];

const RESTORE_SCRIPT = [
  'set -e; t0=$EPOCHREALTIME',
  'cp "$2/archive.tar" "$1/restore.tar"; t1=$EPOCHREALTIME',
  'mkdir "$3"; tar -xf "$1/restore.tar" -C "$3"; t2=$EPOCHREALTIME',
  'rm "$1/restore.tar"; t3=$EPOCHREALTIME',
  'sync -f "$3"; t4=$EPOCHREALTIME',
  'echo $t0 $t1 $t2 $t3 $t4',
].join('\n');
const RESTORE_STEPS = ['cp back', 'tar -xf', 'rm archive', 'sync -f'];

export const BASELINE_CREATE = 'tar -cf W/archive.tar -C STATE . && cp W/archive.tar M1/ && cp W/archive.tar M2/ && rm W/archive.tar && sync -f M1';
export const BASELINE_RESTORE = 'cp M1/archive.tar W/restore.tar && mkdir OUT && tar -xf W/restore.tar -C OUT && rm W/restore.tar && sync -f OUT';

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, {maxBuffer: 1 << 20}, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
}

export interface BaselineDirs {
  /** Where the archive is made (the "node" doing the work). */
  work: string;
  mirrors: [string, string];
}

export function baselineDirs(root: string): BaselineDirs {
  const d = (n: string): string => {
    fs.mkdirSync(path.join(root, n), {recursive: true});
    return path.join(root, n);
  };
  return {work: d('work'), mirrors: [d('mirror-1'), d('mirror-2')]};
}

/** ms per step, plus `total` (first to last timestamp), which the ratio uses. */
export type StepTimes = Record<string, number>;

async function script(body: string, steps: string[], args: string[]): Promise<StepTimes> {
  const marks = (await run('bash', ['-c', body, 'bash', ...args])).trim().split(/\s+/).map((s) => Number(s) * 1000);
  if (marks.length !== steps.length + 1 || marks.some((x) => !Number.isFinite(x))) throw new Error(`baseline script printed no timestamps (${marks.join(' ')})`);
  const out: StepTimes = {};
  steps.forEach((s, i) => (out[s] = marks[i + 1]! - marks[i]!));
  out.total = marks[marks.length - 1]! - marks[0]!;
  return out;
}

export function baselineCreate(state: string, d: BaselineDirs): Promise<StepTimes> {
  return script(CREATE_SCRIPT, CREATE_STEPS, [state, d.work, d.mirrors[0], d.mirrors[1]]);
}

export function baselineRestore(d: BaselineDirs, out: string): Promise<StepTimes> {
  return script(RESTORE_SCRIPT, RESTORE_STEPS, [d.work, d.mirrors[0], out]);
}

/** Drops the mirror copies between runs. */
export function clearMirrors(d: BaselineDirs): void {
  for (const m of d.mirrors) fs.rmSync(path.join(m, 'archive.tar'), {force: true});
}
