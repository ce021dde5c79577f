/**
 * Fleet benchmark, two parts side by side in one run (the machine is noisy: the report is ratios):
 * 1. the pure scheduler, `schedule()`, against a naive first-fit on the same seeded 10,000 tasks /
 *    100 nodes (bench/fleet-scheduler.ts);
 * 2. `swarm sandbox run --runner docker` (the real CLI, a child process) against `docker run --rm`,
 *    alternating, with where swarm's time goes (bench/fleet-sandbox.ts). Skipped, with the reason, when
 *    no docker engine answers.
 */
import * as os from 'node:os';

import type {BenchOptions, BenchOutput} from './run.js';
import {runSandbox, sandboxPlan, TARGET_RATIO} from './fleet-sandbox.js';
import type {SandboxResult} from './fleet-sandbox.js';
import {runScheduler, schedulerPlan} from './fleet-scheduler.js';
import type {SchedulerResult} from './fleet-scheduler.js';
import type {StartupSteps} from './fleet-startup.js';
import {machineFacts} from './machine.js';
import {fmtInt, table} from './report.js';

const TARGET_TEXT = `swarm sandbox run median wall time <= ${TARGET_RATIO} x docker run's`;
const fmtRatio = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');
const fmtMs = (n: number): string => (Number.isFinite(n) ? n.toFixed(0) : '-');

function schedulerLines(s: SchedulerResult): string[] {
  const sh = s.shape;
  const rows = (['schedule', 'first-fit'] as const).map((placer) => {
    const st = s.byPlacer[placer];
    return [
      placer === 'schedule' ? 'schedule() (best fit + reasons)' : 'first-fit (naive baseline)',
      fmtInt(st.placed),
      fmtInt(st.pending),
      st.medianMs.toFixed(1),
      fmtInt(st.placementsPerSec),
      fmtInt(st.tasksPerSec),
      fmtRatio(st.placementsPerSec / s.byPlacer['first-fit'].placementsPerSec),
    ];
  });
  const problems = (['schedule', 'first-fit'] as const).filter((p) => s.byPlacer[p].problem).map((p) => `${p}: ${s.byPlacer[p].problem}`);
  return [
    `scheduler: ${fmtInt(sh.tasks)} pending tasks on ${sh.nodes} nodes (${sh.gpuNodes} with GPUs; ${fmtInt(sh.gpuTasks)} GPU tasks, ${fmtInt(sh.labelled)} with label constraints, ${sh.pinned} pinned; ${fmtInt(sh.demandCores)} cores asked of ${fmtInt(sh.cores)}), seed ${s.plan.seed}`,
    `median of ${s.plan.reps} runs each after ${s.plan.warmups} warm-up(s), alternating, in this process; a run is one whole call (sort included)`,
    '',
    table(['placer', 'placed', 'pending', 'median ms', 'placements/s', 'tasks/s', 'ratio'], rows, 1),
    `(ratio = placements/s over first-fit's; per run: ${s.pairedRatios.map(fmtRatio).join(', ')}; schedule() deterministic over the runs: ${s.deterministic ? 'yes' : 'NO'}; no over-commit, pins and labels kept: ${problems.length === 0 ? 'yes' : 'NO: ' + problems.join('; ')})`,
    `schedule() pending reasons: ${s.pendingReasons.map((r) => `${r.count} x "${r.reason}"`).join(', ')}`,
  ];
}

const STARTUP_TEXT: Record<keyof StartupSteps, string> = {
  boot: 'node boot (to first JS)',
  oclifImport: "import('@oclif/core') (bin/run.js: without oclif's engine check)",
  configLoad: 'Config.load (root plugin: cached manifest, or every command module; core plugins)',
  commandLoad: 'sandbox run command class',
  runLocalImport: 'run-local.js',
  dockerRunnerImport: 'docker-runner.js (imports dockerode: docker-modem, ssh2, grpc, protobufjs)',
  ping: 'available(): ping, first HTTP request',
};

function sandboxLines(r: SandboxResult): string[] {
  const lines = [`sandbox: \`${r.commands.swarm}\` vs \`${r.commands.docker}\``];
  if (r.skipped || !r.wall || !r.ratio) {
    lines.push(`skipped: ${r.skipped ?? 'no result'}`);
    return lines;
  }
  const w = r.wall;
  lines.push(`${r.plan.runs} runs each, alternating (order flips every pair), after ${r.plan.warmups} warm-up(s) of each; wall time from spawn to exit; docker ${r.dockerVersion}`);
  lines.push('');
  lines.push(
    table(
      ['', 'median ms', 'p90 ms', 'min ms', 'max ms'],
      [
        ['docker run --rm', fmtMs(w.docker.median), fmtMs(w.docker.p90), fmtMs(w.docker.min), fmtMs(w.docker.max)],
        ['swarm sandbox run', fmtMs(w.swarm.median), fmtMs(w.swarm.p90), fmtMs(w.swarm.min), fmtMs(w.swarm.max)],
        ['ratio swarm/docker', fmtRatio(r.ratio.median), fmtRatio(r.ratio.p90), '', ''],
      ],
      1,
    ),
  );
  lines.push(`(per pair: ${r.pairedRatios!.map(fmtRatio).join(', ')})`);
  lines.push(`target: ${TARGET_TEXT}: ${r.pass ? 'PASS' : 'FAIL'} (${fmtRatio(r.ratio.median)})`);
  if (r.engine) {
    const e = r.engine.medianMs;
    lines.push('');
    lines.push(`engine work only (in the bench process, no start-up; one run each after every CLI pair), median ms:`);
    lines.push(
      table(
        ['', 'engine ms', 'CLI wall - engine ms'],
        [
          ["swarm's docker runner run()", fmtMs(e.runner), fmtMs(r.engine.clientMs.swarm)],
          ["docker run's API calls (create, attach, wait removed, start)", fmtMs(e['docker-cli-calls']), fmtMs(r.engine.clientMs.docker)],
          ['the same with NetworkDisabled (as the runner sets)', fmtMs(e['docker-cli-calls+NetworkDisabled']), ''],
          ['ratio swarm/docker', fmtRatio(e.runner / e['docker-cli-calls']), fmtRatio(r.engine.clientMs.swarm / r.engine.clientMs.docker)],
        ],
        1,
      ),
    );
    lines.push('(CLI wall - engine = what each client costs around the same engine work: process start, start-up, exit)');
  }
  if (r.phases && r.traced) {
    lines.push('');
    lines.push(`where swarm's time goes: ${r.traced.length} traced runs (probe preloaded), median ms per phase; traced wall median ${fmtMs(r.traced.map((t) => t.wallMs).sort((a, b) => a - b)[Math.floor(r.traced.length / 2)]!)} ms`);
    lines.push(table(['phase (ends when)', 'ms'], r.phases.map((p) => [p.text, p.medianMs.toFixed(1)]), 1));
    lines.push(`engine part (first engine call to remove done): ${fmtMs(r.tracedEngineMs!)} ms, vs ${fmtMs(w.docker.median)} ms for the whole \`docker run\``);
  }
  if (r.startup) {
    const {cli, oclif} = r.startup;
    const keys = Object.keys(STARTUP_TEXT) as (keyof StartupSteps)[];
    const sum = (s: Record<keyof StartupSteps, number>): string => keys.reduce((a, k) => a + s[k], 0).toFixed(1);
    lines.push('');
    lines.push(`start-up anatomy: the same steps one by one in a fresh process, median of ${r.plan.startupSamples} (ms); as bin/run.js starts oclif (bin/fast-start.js) and with oclif's defaults`);
    lines.push(
      table(
        ['step', 'bin/run.js', 'oclif defaults'],
        [...keys.map((k) => [STARTUP_TEXT[k], cli[k].toFixed(1), oclif[k].toFixed(1)]), ['sum', sum(cli), sum(oclif)]],
        1,
      ),
    );
  }
  if (r.profile) {
    const p = r.profile;
    lines.push('');
    lines.push(`cpu profile of one run (${p.totalMs} ms sampled: ${p.idleMs} idle, ${p.gcMs} GC; kept in ${p.file}); inclusive ms per package:`);
    lines.push('  ' + p.packages.map((x) => `${x.name} ${x.ms}`).join(', '));
    lines.push('  top self time: ' + p.functions.slice(0, 8).map((f) => `${f.fn} (${f.where}) ${f.ms}`).join(', '));
  }
  return lines;
}

export async function runFleet(opts: BenchOptions): Promise<BenchOutput> {
  const started = new Date();
  const log = (msg: string): void => void process.stderr.write(`[fleet] ${msg}\n`);
  const sp = schedulerPlan(opts.quick);
  log(`scheduler: ${sp.tasks} tasks, ${sp.nodes} nodes, ${sp.reps} runs`);
  const scheduler = runScheduler(sp, log);
  const sandbox = await runSandbox(sandboxPlan(opts.quick), {profile: opts.profile}, log);

  const lines = [
    `fleet: scheduler placement rate; \`swarm sandbox run\` vs \`docker run\`${opts.quick ? ' [quick]' : ''}${opts.profile ? ' [profile]' : ''}`,
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    '',
    ...schedulerLines(scheduler),
    '',
    ...sandboxLines(sandbox),
  ];
  const finished = new Date();
  const data = {
    benchmark: 'fleet',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    options: opts,
    machine: machineFacts({dockerVersion: sandbox.dockerVersion ?? null}),
    method: {
      scheduler: 'schedule() and firstFit() (bench/fleet-scheduler.ts) on the same seeded workload (bench/fleet-workload.ts), in process, alternating; placements/s = placed tasks / median wall time of one call',
      sandbox: 'each command a child process timed from spawn to close, alternating, order flipped every pair; traced runs preload bench/fleet-probe.js; start-up anatomy from bench/fleet-startup.js',
      target: TARGET_TEXT,
    },
    scheduler,
    sandbox,
    target: sandbox.ratio ? {description: TARGET_TEXT, threshold: TARGET_RATIO, ratio: sandbox.ratio.median, pass: sandbox.pass} : {description: TARGET_TEXT, skipped: sandbox.skipped},
  };
  return {table: lines.join('\n'), data};
}
