/**
 * Egress for the process runner: a named network namespace of our own (see egress-netns.ts) with the
 * relay's listeners in it, an /etc/hosts for the rules' hostnames, and the argv pieces that put bwrap
 * into that namespace (`ip netns exec NAME … bwrap --share-net …`) instead of a fresh empty one.
 * bwrap's user namespace is created inside, so the sandbox holds no capability over the network
 * namespace (it belongs to the host's user namespace): it cannot add addresses or routes.
 */
import {chmod, mkdtemp, rm, writeFile} from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

import {createNamedNetns, type NamedNetns} from './egress-netns.js';
import {startEgressRelay, type EgressRelay} from './egress-relay.js';
import {hostsFileText, type EgressPlan} from './egress-rules.js';

export interface ProcessEgress {
  /** argv prefix: run what follows inside the egress namespace. */
  enter: string[];
  /** bwrap options: keep the (prepared) network namespace, and see the rules' hostnames. */
  bwrapArgs: string[];
  relay: EgressRelay;
  /** Stops the relay, deletes the namespace and the hosts file; idempotent, never throws. */
  close(): Promise<void>;
}

export async function openProcessEgress(plan: EgressPlan): Promise<ProcessEgress> {
  let dir: string | undefined;
  let ns: NamedNetns | undefined;
  let relay: EgressRelay | undefined;
  const close = async (): Promise<void> => {
    relay?.close();
    await ns?.destroy();
    if (dir) await rm(dir, {recursive: true, force: true}).catch(() => undefined);
  };
  try {
    dir = await mkdtemp(path.join(os.tmpdir(), 'swarm-eg-'));
    await chmod(dir, 0o755);
    const hosts = path.join(dir, 'hosts');
    await writeFile(hosts, hostsFileText(plan), {mode: 0o644});
    ns = await createNamedNetns(plan.extraAddresses);
    relay = await startEgressRelay(ns.enter, plan.targets);
    return {enter: ns.enter, bwrapArgs: ['--share-net', '--ro-bind', hosts, '/etc/hosts'], relay, close};
  } catch (err) {
    await close();
    throw err;
  }
}
