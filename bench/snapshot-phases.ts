/**
 * Where a snapshot create/restore spent its time: the node records the wall time of each step in
 * the operation's progress (`snapshot.progress` -> steps), read once the call has returned. Polling
 * progress during the call would not do: the node answers its control socket late while a bulk
 * transfer keeps its event loop busy (seconds, on a small machine).
 */
import type {SnapCluster, SnapNode} from './snapshot-cluster.js';

/** Step name -> ms, in the order the steps ran. */
export type Phases = Record<string, number>;

/** What each step the service records covers (the service's step names, in order). */
export const CREATE_PHASES: Record<string, string> = {
  plan: 'plan: stat the files, cut the parts',
  send: 'read each part, send it to its 2 holders (they write, hash, fsync; the hashes must agree)',
  manifest: 'manifest through Raft',
};
export const RESTORE_PHASES: Record<string, string> = {
  verify: 'verify: every copy hashed on its holder',
  'fetch + extract': 'fetch parts in order (hash), extract files as they arrive, fsync each',
  'sync + commit': 'wait for the last fsyncs, link the files in, commit',
};

export async function stepsOf(c: SnapCluster, node: SnapNode, id: string): Promise<Phases> {
  const p = await c.call(node, 'snapshot.progress', {id});
  return Object.fromEntries((p?.steps ?? []).map((s) => [s.step, s.ms]));
}
