/**
 * Engine work only, for the fleet bench's sandbox comparison: in the bench's (warm) process, no CLI start-up,
 * the docker runner's `run()` against the engine API calls `docker run --rm --network none IMG true` makes
 * (create, attach, wait for removal, start; AutoRemove). Subtracting these from the CLI wall times splits
 * each side into engine work and client start-up/exit. A third variant is the docker CLI's sequence with
 * `NetworkDisabled` (which the runner sets and the CLI has no flag for): the engine then skips setting up
 * the `none` network sandbox, which is most of the engine-side difference.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {performance} from 'node:perf_hooks';

import type Dockerode from 'dockerode';

import {DockerRunner} from '../src/core/sandbox/docker-runner.js';

export type EngineVariant = 'runner' | 'docker-cli-calls' | 'docker-cli-calls+NetworkDisabled';
export const ENGINE_VARIANTS: EngineVariant[] = ['runner', 'docker-cli-calls', 'docker-cli-calls+NetworkDisabled'];

/** What `docker run --rm --network none IMG true` asks the engine after its ping (as seen through a socket proxy). */
async function dockerCliCalls(docker: Dockerode, image: string, networkDisabled: boolean): Promise<void> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: ['true'],
    AttachStdout: true,
    AttachStderr: true,
    ...(networkDisabled ? {NetworkDisabled: true} : {}),
    HostConfig: {NetworkMode: 'none', AutoRemove: true},
  });
  const stream = await c.attach({stream: true, stdout: true, stderr: true});
  stream.resume();
  const removed = c.wait({condition: 'removed'});
  await c.start();
  await removed;
}

/** One run of each variant on demand, with a shared work dir; close() removes it. */
export interface EngineProbe {
  once(variant: EngineVariant): Promise<number>;
  close(): void;
}

export function engineProbe(docker: Dockerode, image: string): EngineProbe {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-bench-engine-'));
  fs.chmodSync(workDir, 0o777); // as run-local does: the sandbox user is nobody
  const runner = new DockerRunner({});
  const run: Record<EngineVariant, () => Promise<void>> = {
    runner: async () => {
      const r = await runner.run({
        command: ['true'],
        image,
        workDir,
        env: {},
        // `swarm sandbox run`'s defaults
        limits: {cpus: 1, memoryBytes: 256 * 2 ** 20, pids: 64},
        timeoutMs: 60_000,
        maxOutputBytes: 2 ** 20,
        allowEgress: [],
      });
      if (r.status !== null || r.exitCode !== 0) throw new Error(`docker runner: ${r.status ?? `exit ${r.exitCode}`} ${r.detail ?? ''}`);
    },
    'docker-cli-calls': () => dockerCliCalls(docker, image, false),
    'docker-cli-calls+NetworkDisabled': () => dockerCliCalls(docker, image, true),
  };
  return {
    async once(variant) {
      const t0 = performance.now();
      await run[variant]();
      return performance.now() - t0;
    },
    close: () => fs.rmSync(workDir, {recursive: true, force: true}),
  };
}
