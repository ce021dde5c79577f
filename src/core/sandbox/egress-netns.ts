/**
 * Network namespaces for egress runs, driven from outside with iproute2 (root needed). A namespace of
 * ours has only `lo`, plus each allowed non-loopback destination address as a /32 on it, so that
 * connecting there lands on the relay's listener and everything else is unroutable. Nothing is ever
 * added to the caller's own namespace.
 */
import {execFile, execFileSync} from 'node:child_process';
import {stat} from 'node:fs/promises';

const STEP_TIMEOUT_MS = 10_000;
/** Every namespace we name starts with this, then our pid and a counter: unique, and easy to audit. */
export const NETNS_PREFIX = 'swarm-eg-';
/** Where iproute2 binds named namespaces. */
const NETNS_DIR = '/var/run/netns';

export class EgressNetnsError extends Error {
  override readonly name = 'EgressNetnsError';
}

/** Runs argv (no shell); rejects with the command's first stderr line. */
export function runStep(argv: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), {timeout: STEP_TIMEOUT_MS, encoding: 'utf8'}, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why = stderr.trim().split('\n')[0] || err.message.split('\n')[0];
      reject(new EgressNetnsError(`${argv.slice(0, 3).join(' ')}…: ${why}`));
    });
  });
}

/** Brings lo up and makes each address local on it, inside the namespace reached through `enter`. */
export async function addLocalAddresses(enter: readonly string[], addresses: readonly string[]): Promise<void> {
  await runStep([...enter, 'ip', 'link', 'set', 'lo', 'up']);
  for (const ip of addresses) await runStep([...enter, 'ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
}

export interface NamedNetns {
  name: string;
  /** argv prefix that runs a command inside it. */
  enter: string[];
  /** Deletes it; idempotent. */
  destroy(): Promise<void>;
}

let counter = 0;
const live = new Set<string>();

// Should the process end abruptly mid-run, still leave no namespace behind ('exit' handlers are synchronous).
function deleteLeftovers(): void {
  for (const name of live) {
    try {
      execFileSync('ip', ['netns', 'del', name], {stdio: 'ignore', timeout: STEP_TIMEOUT_MS});
    } catch {
      /* already gone */
    }
  }
  live.clear();
}

/** Names a namespace (created, or attached from a process) and tracks it until destroyed. */
async function named(create: (name: string) => Promise<void>): Promise<NamedNetns> {
  const name = `${NETNS_PREFIX}${process.pid}-${++counter}`;
  await create(name);
  if (live.size === 0) process.once('exit', deleteLeftovers);
  live.add(name);
  let destroyed = false;
  return {
    name,
    enter: ['ip', 'netns', 'exec', name],
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      // Only the name goes; a namespace still used by a process (a container) lives on with it.
      await runStep(['ip', 'netns', 'del', name]).catch(() => undefined);
      live.delete(name);
      if (live.size === 0) process.removeListener('exit', deleteLeftovers);
    },
  };
}

/** A fresh namespace `swarm-eg-<pid>-<n>` with lo up and `addresses` on lo. */
export async function createNamedNetns(addresses: readonly string[]): Promise<NamedNetns> {
  const ns = await named(async (name) => {
    try {
      await runStep(['ip', 'netns', 'add', name]);
    } catch (err) {
      throw new EgressNetnsError(`cannot create network namespace ${name} (egress needs root and iproute2): ${(err as Error).message}`);
    }
  });
  try {
    await addLocalAddresses(ns.enter, addresses);
  } catch (err) {
    await ns.destroy();
    throw err;
  }
  return ns;
}

/**
 * Names the network namespace of process `pid` (`ip netns attach`), then checks, through the name,
 * that it is the namespace of the process `isOurs` accepts and not the caller's own: a pid can be
 * reused, but a name bound to the namespace cannot change what it points to.
 */
export async function attachNamedNetns(pid: number, isOurs: (pid: number) => Promise<boolean>): Promise<NamedNetns> {
  const ns = await named(async (name) => {
    try {
      await runStep(['ip', 'netns', 'attach', name, String(pid)]);
    } catch (err) {
      throw new EgressNetnsError(`cannot name the network namespace of pid ${pid} (egress needs root and a local engine): ${(err as Error).message}`);
    }
  });
  try {
    const [bound, theirs, own] = await Promise.all([
      stat(`${NETNS_DIR}/${ns.name}`),
      stat(`/proc/${pid}/ns/net`),
      stat('/proc/self/ns/net'),
    ]);
    if (bound.dev !== theirs.dev || bound.ino !== theirs.ino || !(await isOurs(pid))) throw new EgressNetnsError(`pid ${pid} is not the process it should be`);
    if (bound.dev === own.dev && bound.ino === own.ino) throw new EgressNetnsError(`pid ${pid} shares this process's network namespace; refusing to use it`);
    return ns;
  } catch (err) {
    await ns.destroy();
    throw err instanceof EgressNetnsError ? err : new EgressNetnsError(`cannot check the namespace of pid ${pid}: ${(err as Error).message}`);
  }
}
