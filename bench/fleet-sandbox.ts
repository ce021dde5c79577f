/**
 * Sandbox half of the fleet bench: the real CLI, `node bin/run.js sandbox run --runner docker --image IMG
 * -- true`, against `docker run --rm --network none IMG true`, each a child process timed from spawn to
 * close, alternating (the order flips every pair), after a warm-up of each; after every pair, the engine
 * work alone in this process (bench/fleet-engine.ts). Then where swarm's time goes: traced runs
 * (bench/fleet-probe.ts preloaded: node boot, start-up, every engine call), a start-up anatomy
 * (bench/fleet-startup.ts: each module step in a fresh process), and with --profile a `--cpu-prof` of one run.
 */
import {execFile, spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

import Dockerode from 'dockerode';

import {BUSYBOX_IMAGE, dockerAvailable, ensureBusyboxImage} from '../test/helpers/docker.js';
import {ENGINE_VARIANTS, engineProbe} from './fleet-engine.js';
import type {EngineVariant} from './fleet-engine.js';
import type {Trace} from './fleet-probe.js';
import {summariseStartup} from './fleet-profile.js';
import type {StartupProfile} from './fleet-profile.js';
import type {StartupMode, StartupSteps} from './fleet-startup.js';
import {quantile} from './report.js';

const SWARM_BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./fleet-probe.js', import.meta.url));
const STARTUP = fileURLToPath(new URL('./fleet-startup.js', import.meta.url));
export const TARGET_RATIO = 1.1;
const STARTUP_MODES: StartupMode[] = ['cli', 'oclif'];

export type Side = 'docker' | 'swarm';
export const SIDES: Side[] = ['docker', 'swarm'];

export interface SandboxPlan {
  image: string;
  warmups: number;
  runs: number;
  traced: number;
  startupSamples: number;
}

export function sandboxPlan(quick: boolean): SandboxPlan {
  return quick
    ? {image: BUSYBOX_IMAGE, warmups: 1, runs: 3, traced: 2, startupSamples: 2}
    : {image: BUSYBOX_IMAGE, warmups: 1, runs: 15, traced: 5, startupSamples: 5};
}

export function commands(image: string): Record<Side, string[]> {
  return {
    docker: ['docker', 'run', '--rm', '--network', 'none', image, 'true'],
    swarm: [process.execPath, SWARM_BIN, 'sandbox', 'run', '--runner', 'docker', '--image', image, '--', 'true'],
  };
}

interface Timed {
  ms: number;
  code: number | null;
  stderr: string;
}

/** Spawn to 'close' (exited and its pipes drained), wall clock. */
function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe'], env});
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ms: performance.now() - t0, code, stderr}));
  });
}

async function mustSucceed(side: Side, argv: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const r = await timed(argv, env);
  if (r.code !== 0) throw new Error(`${side} run exited ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r.ms;
}

export interface WallStats {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  runsMs: number[];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function stats(xs: number[]): WallStats {
  const s = [...xs].sort((a, b) => a - b);
  return {n: s.length, median: round1(quantile(s, 0.5)), p90: round1(quantile(s, 0.9)), min: round1(s[0]!), max: round1(s[s.length - 1]!), runsMs: xs.map(round1)};
}

// ---- where the time goes --------------------------------------------------------------------------

/** Milestones of one traced run, in time order; each phase ends at its milestone. */
export const PHASES: {key: string; text: string}[] = [
  {key: 'boot', text: 'node boot (exec to first JS)'},
  {key: 'firstCall', text: 'CLI start-up until the first engine call (oclif, commands, runner modules, dockerode)'},
  {key: 'pingDone', text: 'available(): engine ping'},
  {key: 'createSent', text: 'temp work dir, spec checks'},
  {key: 'createDone', text: 'engine: create container'},
  {key: 'startSent', text: 'engine: attach, wait registered'},
  {key: 'startDone', text: 'engine: start container'},
  {key: 'exitSeen', text: 'container runs `true`, engine reports the exit (wait returns)'},
  {key: 'removeSent', text: 'output drained, inspect (OOM check)'},
  {key: 'removeDone', text: 'engine: remove container'},
  {key: 'exit', text: 'temp dir removed, output written, process exit event'},
  {key: 'close', text: 'process teardown (exit event to parent sees close)'},
];

function milestones(trace: Trace, wallMs: number): Map<string, number> {
  const call = (name: string) => trace.calls.find((c) => c.name === name);
  const m = new Map<string, number | undefined>([
    ['boot', trace.boot],
    ['firstCall', trace.calls[0]?.sent],
    ['pingDone', call('ping')?.end],
    ['createSent', call('create')?.sent],
    ['createDone', call('create')?.end],
    ['startSent', call('start')?.sent],
    ['startDone', call('start')?.end],
    ['exitSeen', call('wait')?.end],
    ['removeSent', call('remove')?.sent],
    ['removeDone', call('remove')?.end],
    ['exit', trace.exit],
    ['close', wallMs],
  ]);
  return new Map([...m].filter((e): e is [string, number] => e[1] !== undefined && Number.isFinite(e[1])));
}

/** Per run: phase key -> ms since the previous milestone present in that run. */
function phases(trace: Trace, wallMs: number): Record<string, number> {
  const m = milestones(trace, wallMs);
  const out: Record<string, number> = {};
  let prev = 0;
  for (const {key} of PHASES) {
    const t = m.get(key);
    if (t === undefined) continue;
    out[key] = round1(t - prev);
    prev = t;
  }
  return out;
}

export interface TracedRun {
  wallMs: number;
  trace: Trace;
  phases: Record<string, number>;
}

async function tracedRuns(argv: string[], n: number, dir: string): Promise<TracedRun[]> {
  const runs: TracedRun[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `trace-${i}.json`);
    const wallMs = await mustSucceed('swarm', [argv[0]!, '--import', PROBE, ...argv.slice(1)], {...process.env, SWARM_BENCH_TRACE_FILE: file});
    const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as Trace;
    runs.push({wallMs: round1(wallMs), trace, phases: phases(trace, wallMs)});
  }
  return runs;
}

/** n fresh processes per mode, the modes alternating. */
async function startupSamples(n: number): Promise<Record<StartupMode, StartupSteps[]>> {
  const run = promisify(execFile);
  const out: Record<StartupMode, StartupSteps[]> = {cli: [], oclif: []};
  for (let i = 0; i < n; i++) {
    for (const mode of STARTUP_MODES) {
      const {stdout} = await run(process.execPath, [STARTUP, mode], {timeout: 30_000});
      out[mode].push(JSON.parse(stdout) as StartupSteps);
    }
  }
  return out;
}

const medianOf = (xs: number[]): number => round1(quantile([...xs].sort((a, b) => a - b), 0.5));

// ---- the measurement ------------------------------------------------------------------------------

export interface SandboxResult {
  plan: SandboxPlan;
  commands: Record<Side, string>;
  /** Set when the comparison could not run; nothing else is then. */
  skipped?: string;
  dockerVersion?: string;
  wall?: Record<Side, WallStats>;
  /** swarm/docker on the medians and on the p90s (> 1: swarm slower). */
  ratio?: {median: number; p90: number};
  /** swarm/docker of each back-to-back pair. */
  pairedRatios?: number[];
  pass?: boolean;
  /** Median ms per phase over the traced runs (PHASES order). */
  phases?: {key: string; text: string; medianMs: number}[];
  /** Median of the traced runs' first engine call to remove done: what the engine part costs swarm. */
  tracedEngineMs?: number;
  traced?: TracedRun[];
  /** Median ms per start-up step (fresh process each sample), as bin/run.js starts oclif and with oclif's defaults. */
  startup?: Record<StartupMode, Record<keyof StartupSteps, number>>;
  startupSamples?: Record<StartupMode, StartupSteps[]>;
  /**
   * Engine work only, in the bench process (no CLI start-up), one run of each variant after each CLI
   * pair; clientMs = CLI wall minus its engine work in the same rep (start-up, exit, the client's side).
   */
  engine?: {medianMs: Record<EngineVariant, number>; runsMs: Record<EngineVariant, number[]>; clientMs: Record<Side, number>};
  profile?: StartupProfile;
}

export async function runSandbox(p: SandboxPlan, opts: {profile: boolean}, log: (msg: string) => void): Promise<SandboxResult> {
  const argv = commands(p.image);
  const base: SandboxResult = {plan: p, commands: {docker: argv.docker.join(' '), swarm: `node bin/run.js ${argv.swarm.slice(2).join(' ')}`}};

  const avail = await dockerAvailable();
  if (!avail.ok) return {...base, skipped: `no docker engine: ${avail.reason}`};
  let dockerVersion: string;
  try {
    const {stdout} = await promisify(execFile)('docker', ['version', '--format', 'CLI {{.Client.Version}}, engine {{.Server.Version}}'], {timeout: 10_000});
    dockerVersion = stdout.trim();
  } catch (err) {
    return {...base, skipped: `the docker CLI does not work here: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`};
  }
  const docker = new Dockerode();
  try {
    await ensureBusyboxImage(docker, p.image);
  } catch (err) {
    return {...base, skipped: `cannot build ${p.image}: ${err instanceof Error ? err.message : String(err)}`};
  }

  const probe = engineProbe(docker, p.image);
  const ms: Record<Side, number[]> = {docker: [], swarm: []};
  const engineRuns = {runner: [], 'docker-cli-calls': [], 'docker-cli-calls+NetworkDisabled': []} as Record<EngineVariant, number[]>;
  try {
    for (let i = 0; i < p.warmups; i++) {
      for (const side of SIDES) await mustSucceed(side, argv[side]);
      for (const v of ENGINE_VARIANTS) await probe.once(v);
    }
    for (let rep = 0; rep < p.runs; rep++) {
      const flip = rep % 2 === 1;
      for (const side of flip ? [...SIDES].reverse() : SIDES) ms[side].push(await mustSucceed(side, argv[side]));
      // In the same slot of time as the CLI pair, so the subtraction below sees the same machine load.
      for (const v of flip ? [...ENGINE_VARIANTS].reverse() : ENGINE_VARIANTS) engineRuns[v].push(round1(await probe.once(v)));
      log(`sandbox run ${rep + 1}/${p.runs}: docker ${ms.docker[rep]!.toFixed(0)} ms, swarm ${ms.swarm[rep]!.toFixed(0)} ms; engine only: runner ${engineRuns.runner[rep]!.toFixed(0)} ms, docker's calls ${engineRuns['docker-cli-calls'][rep]!.toFixed(0)} ms`);
    }
  } finally {
    probe.close();
  }
  const engine = {
    medianMs: Object.fromEntries(ENGINE_VARIANTS.map((v) => [v, medianOf(engineRuns[v])])) as Record<EngineVariant, number>,
    runsMs: engineRuns,
    clientMs: {
      swarm: medianOf(ms.swarm.map((x, i) => x - engineRuns.runner[i]!)),
      docker: medianOf(ms.docker.map((x, i) => x - engineRuns['docker-cli-calls'][i]!)),
    },
  };
  const wall = {docker: stats(ms.docker), swarm: stats(ms.swarm)};
  const ratio = {median: Math.round((wall.swarm.median / wall.docker.median) * 1000) / 1000, p90: Math.round((wall.swarm.p90 / wall.docker.p90) * 1000) / 1000};

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-bench-fleet-'));
  try {
    log(`where the time goes: ${p.traced} traced swarm runs, ${p.startupSamples} start-up samples`);
    const traced = await tracedRuns(argv.swarm, p.traced, tmp);
    const phaseMedians = PHASES.filter(({key}) => traced.every((r) => key in r.phases)).map(({key, text}) => ({key, text, medianMs: medianOf(traced.map((r) => r.phases[key]!))}));
    const tracedEngineMs = medianOf(
      traced.map((r) => {
        const m = milestones(r.trace, r.wallMs);
        return (m.get('removeDone') ?? m.get('exit')!) - m.get('firstCall')!;
      }),
    );
    const samples = await startupSamples(p.startupSamples);
    const medians = (runs: StartupSteps[]): Record<keyof StartupSteps, number> =>
      Object.fromEntries((Object.keys(runs[0]!) as (keyof StartupSteps)[]).map((k) => [k, medianOf(runs.map((s) => s[k]))])) as Record<keyof StartupSteps, number>;
    const startup = {cli: medians(samples.cli), oclif: medians(samples.oclif)};

    let profile: StartupProfile | undefined;
    if (opts.profile) {
      const profDir = path.join(os.tmpdir(), `swarm-bench-fleet-prof-${process.pid}`);
      fs.mkdirSync(profDir, {recursive: true});
      await mustSucceed('swarm', [argv.swarm[0]!, '--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-name=sandbox-run.cpuprofile', ...argv.swarm.slice(1)]);
      profile = summariseStartup(path.join(profDir, 'sandbox-run.cpuprofile'));
    }
    return {
      ...base,
      dockerVersion,
      wall,
      ratio,
      pairedRatios: ms.swarm.map((s, i) => Math.round((s / ms.docker[i]!) * 1000) / 1000),
      pass: ratio.median <= TARGET_RATIO,
      phases: phaseMedians,
      tracedEngineMs,
      traced,
      startup,
      startupSamples: samples,
      engine,
      ...(profile ? {profile} : {}),
    };
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}
