/**
 * Child of the fleet bench (`node dist/bench/fleet-startup.js [cli|oclif]`): in a fresh process, loads
 * what `swarm sandbox run --runner docker` loads before its first engine call, in the CLI's order, one
 * step at a time, and prints how long each step took as JSON on stdout. `cli` starts oclif the way
 * bin/run.js does (bin/fast-start.js: cached root manifest, no engine check); `oclif` with oclif's
 * defaults, to show what that saves. Only dynamic imports here, so nothing loads before the clock starts.
 */
import {performance} from 'node:perf_hooks';

export type StartupMode = 'cli' | 'oclif';

export interface StartupSteps {
  /** Process start to this script running (node boot, this file's own load). */
  boot: number;
  /** import('@oclif/core') */
  oclifImport: number;
  /** Config.load as bin/run.js's execute() does it: root plugin (its manifest or all command modules), core plugins. */
  configLoad: number;
  /** The sandbox run command class (base command, flag helpers). */
  commandLoad: number;
  /** run-local.js (the runner chooser). */
  runLocalImport: number;
  /** docker-runner.js, which imports dockerode (docker-modem, ssh2, grpc for BuildKit sessions, ...). */
  dockerRunnerImport: number;
  /** DockerRunner.available(): the engine ping, first HTTP request of the process. */
  ping: number;
}

type Oclif = typeof import('@oclif/core');
interface FastStart {
  importOclif(): Promise<Oclif>;
  cacheRootManifest(plugin: Oclif['Plugin']): void;
}

async function main(mode: StartupMode): Promise<StartupSteps> {
  const bin = new URL('../../bin/run.js', import.meta.url);
  let last = performance.now();
  const steps: Partial<StartupSteps> = {boot: last};
  const step = (name: keyof StartupSteps): void => {
    const now = performance.now();
    steps[name] = now - last;
    last = now;
  };
  // bin/ is plain JS outside the compiled tree: typed here by what bin/run.js uses of it.
  const fast = mode === 'cli' ? ((await import(new URL('fast-start.js', bin).href)) as FastStart) : undefined;
  const oclif = fast ? await fast.importOclif() : await import('@oclif/core');
  fast?.cacheRootManifest(oclif.Plugin);
  step('oclifImport');
  const config = await oclif.Config.load(bin.href);
  step('configLoad');
  await config.findCommand('sandbox:run', {must: true}).load();
  step('commandLoad');
  await import('../src/core/sandbox/run-local.js');
  step('runLocalImport');
  const {DockerRunner} = await import('../src/core/sandbox/docker-runner.js');
  step('dockerRunnerImport');
  await new DockerRunner({}).available();
  step('ping');
  return steps as StartupSteps;
}

main(process.argv[2] === 'oclif' ? 'oclif' : 'cli').then(
  (steps) => {
    process.stdout.write(JSON.stringify(steps) + '\n');
  },
  (err: unknown) => {
    process.stderr.write(`fleet-startup: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
