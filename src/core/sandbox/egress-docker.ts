/**
 * Egress for the docker runner: a "holder" container from the run's image (`sleep`, NetworkMode none,
 * as locked down as the task) owns the network namespace; the relay's listeners and the destination
 * addresses are put into it from the host (through a name, `ip netns attach`, checked to be the
 * holder's), and the task container joins it with
 * NetworkMode `container:<holder>`. The task runs with every capability dropped, so it cannot change
 * that namespace. The rules' hostnames reach the task through the holder's ExtraHosts (a container
 * that joins another's network shares its /etc/hosts).
 */
import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';

import type {Engine, EngineContainer} from './engine-client.js';

import {addLocalAddresses, attachNamedNetns, type NamedNetns} from './egress-netns.js';
import {startEgressRelay, type EgressRelay} from './egress-relay.js';
import type {EgressPlan} from './egress-rules.js';

/** Outlives the run's own wall clock; the holder is removed with the run anyway. */
const HOLDER_SLACK_S = 300;
const HOLDER_TOKEN_VAR = 'SWARM_EGRESS_HOLDER';

export class DockerEgressError extends Error {
  override readonly name = 'DockerEgressError';
}

export interface DockerEgress {
  /** The task container's NetworkMode. */
  networkMode: string;
  relay: EgressRelay;
  /** Stops the relay and force-removes the holder; idempotent, never throws. */
  close(): Promise<void>;
}

export interface HolderOptions {
  image: string;
  user: string;
  labels: Record<string, string>;
  timeoutMs: number;
}

function message(err: unknown): string {
  const e = err as {json?: {message?: string}; message?: string};
  return (e?.json?.message ?? e?.message ?? String(err)).replace(/\s+/g, ' ').trim();
}

/** Whether `pid` is our holder: its environment carries this run's random token (root can read it). */
async function hasToken(pid: number, token: string): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0').includes(`${HOLDER_TOKEN_VAR}=${token}`);
  } catch {
    return false;
  }
}

export async function openDockerEgress(docker: Engine, plan: EgressPlan, options: HolderOptions): Promise<DockerEgress> {
  const token = randomBytes(12).toString('hex');
  let holder: EngineContainer | undefined;
  let ns: NamedNetns | undefined;
  let relay: EgressRelay | undefined;
  const close = async (): Promise<void> => {
    relay?.close();
    await ns?.destroy();
    await holder?.remove().catch(() => undefined);
  };
  try {
    holder = await docker
      .createContainer({
        Image: options.image,
        Entrypoint: ['sleep'],
        Cmd: [String(Math.ceil(options.timeoutMs / 1000) + HOLDER_SLACK_S)],
        Env: [`${HOLDER_TOKEN_VAR}=${token}`],
        User: options.user,
        Labels: options.labels,
        HostConfig: {
          NetworkMode: 'none',
          ExtraHosts: [...plan.hosts].map(([name, ip]) => `${name}:${ip}`),
          ReadonlyRootfs: true,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          PidsLimit: 4,
          Memory: 16 * 1024 * 1024,
          MemorySwap: 16 * 1024 * 1024,
          AutoRemove: false,
          LogConfig: {Type: 'none', Config: {}},
        },
      })
      .catch((err: unknown) => {
        throw new DockerEgressError(`cannot create the network holder container: ${message(err)}`);
      });
    await holder.start().catch((err: unknown) => {
      throw new DockerEgressError(`cannot start the network holder container (the image must have \`sleep\`): ${message(err)}`);
    });
    const pid = (await holder.inspect()).State?.Pid;
    if (typeof pid !== 'number' || pid <= 0) throw new DockerEgressError('the network holder container is not running');
    // Named, then checked through the name: a remote engine's pid, or a reused one, is refused.
    ns = await attachNamedNetns(pid, (p) => hasToken(p, token));
    await addLocalAddresses(ns.enter, plan.extraAddresses);
    relay = await startEgressRelay(ns.enter, plan.targets);
    return {networkMode: `container:${holder.id}`, relay, close};
  } catch (err) {
    await close();
    throw err;
  }
}
