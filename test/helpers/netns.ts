/**
 * A throwaway L2 lab of Linux network namespaces for tests that need real multicast/broadcast:
 * n host namespaces, each with `eth0` on a private 10.x.y.0/24, cabled by veth pairs to a bridge that
 * lives in its own namespace. Nothing is created in (or routed to) the host's namespace, so lab
 * traffic can't leave the machine. Requires root and iproute2.
 */
import {execFileSync} from 'node:child_process';
import * as crypto from 'node:crypto';

export interface NetnsHost {
  /** Namespace name, e.g. "swt-ab12cd-h1". */
  ns: string;
  /** eth0's address inside it, e.g. "10.217.34.1". */
  address: string;
}

export interface NetnsLab {
  hosts: NetnsHost[];
  bridgeNs: string;
  /** Deletes every namespace of the lab (which removes the veths); idempotent. */
  destroy(): Promise<void>;
  /** Runs argv inside host's namespace and returns its stdout (throws on non-zero exit). */
  exec(host: NetnsHost, argv: string[]): string;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000});
}

function errText(err: unknown): string {
  const stderr = (err as {stderr?: unknown}).stderr;
  return (typeof stderr === 'string' && stderr.trim()) || (err instanceof Error ? err.message : String(err));
}

let probe: {ok: true} | {ok: false; reason: string} | undefined;

/** Whether this process can build a lab: root, iproute2, and netns/veth/bridge support in the kernel. */
export function canUseNetns(): {ok: true} | {ok: false; reason: string} {
  if (probe) return probe;
  probe = probeNetns();
  return probe;
}

function probeNetns(): {ok: true} | {ok: false; reason: string} {
  if (process.platform !== 'linux') return {ok: false, reason: `network namespaces need Linux (this is ${process.platform})`};
  if (process.getuid?.() !== 0) return {ok: false, reason: 'network namespaces need root (run the tests as root, as CI does)'};
  try {
    ip(['-V']);
  } catch (err) {
    return {ok: false, reason: `iproute2 \`ip\` is not usable: ${errText(err)}`};
  }
  // Build the same kinds of objects a lab uses, entirely inside a scratch namespace.
  const ns = `swt-probe-${crypto.randomBytes(3).toString('hex')}`;
  try {
    ip(['netns', 'add', ns]);
  } catch (err) {
    return {ok: false, reason: `cannot create a network namespace: ${errText(err)}`};
  }
  try {
    ip(['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    return {ok: true};
  } catch (err) {
    return {ok: false, reason: `cannot create bridge/veth links in a namespace: ${errText(err)}`};
  } finally {
    try {
      ip(['netns', 'del', ns]);
    } catch {
      // nothing more we can do; the name is unique to this probe
    }
  }
}

function randInt(n: number): number {
  return crypto.randomInt(n);
}

/** Builds a lab of n hosts (1..250) on one bridge. Cleans up after itself if any step fails. */
export async function createLab(n: number): Promise<NetnsLab> {
  if (!Number.isInteger(n) || n < 1 || n > 250) throw new RangeError(`createLab: n must be 1..250, got ${n}`);
  // Random names and subnet per run, so concurrent runs (jest workers, CI jobs) never collide.
  const prefix = `swt-${crypto.randomBytes(3).toString('hex')}`;
  const subnet = `10.${200 + randInt(50)}.${randInt(256)}`;
  const bridgeNs = `${prefix}-br`;
  const created: string[] = [];
  const hosts: NetnsHost[] = [];
  let destroyed = false;

  const destroySync = (): void => {
    if (destroyed) return;
    destroyed = true;
    process.removeListener('exit', destroySync);
    for (const ns of [...created].reverse()) {
      // A process left in a namespace keeps it (and its veth) alive after `netns del`; anything in these
      // uniquely named namespaces was started by this lab's user, so end it by pid.
      try {
        for (const pid of ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // namespace already gone
      }
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  };
  // 'exit' handlers must be synchronous: that is why every step here uses execFileSync.
  process.on('exit', destroySync);

  try {
    ip(['netns', 'add', bridgeNs]);
    created.push(bridgeNs);
    // No STP, no forwarding delay, no IGMP snooping: a dumb hub that floods multicast to every port at once.
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < n; i++) {
      const ns = `${prefix}-h${i + 1}`;
      const host: NetnsHost = {ns, address: `${subnet}.${i + 1}`};
      ip(['netns', 'add', ns]);
      created.push(ns);
      // Created inside the bridge ns with its peer placed straight into the host ns: the pair never
      // exists in the root namespace, not even briefly.
      const port = `p${i + 1}`;
      ip(['-n', bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', bridgeNs, 'link', 'set', port, 'master', 'br0']);
      ip(['-n', bridgeNs, 'link', 'set', port, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
      // Without it a socket that leaves the multicast interface unspecified has no route for 224/4
      // (the lab has no default route); with it, multicast goes out eth0 rather than failing or using lo.
      ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      hosts.push(host);
    }
  } catch (err) {
    destroySync();
    throw new Error(`createLab: ${errText(err)}`);
  }

  return {
    hosts,
    bridgeNs,
    destroy: async () => destroySync(),
    exec: (host, argv) => {
      if (!hosts.some((h) => h.ns === host.ns)) throw new Error(`exec: ${host.ns} is not a host of this lab`);
      return execFileSync('ip', ['netns', 'exec', host.ns, ...argv], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000});
    },
  };
}
