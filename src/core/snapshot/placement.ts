/**
 * RAID-10 placement: each of a snapshot's parts (the stripes) gets two copies (the mirror) on two
 * different peers, spread so every peer holds about the same number of copies and losing any one
 * peer leaves every part with a copy. Pure and deterministic (the peers come sorted by the caller's
 * choice of order; the result depends on nothing else).
 */
import {RefusedError} from '../errors.js';

export const COPIES = 2;

/** For each part, the two nodes that hold it. */
export function placeParts(parts: number, peers: readonly string[]): [string, string][] {
  const nodes = [...new Set(peers)];
  if (nodes.length < COPIES) throw new RefusedError(`a snapshot needs at least ${COPIES} live peers to mirror each part (have ${nodes.length}); start more nodes`);
  if (!Number.isSafeInteger(parts) || parts < 1) throw new RefusedError('a snapshot needs at least one part');
  const k = nodes.length;
  const out: [string, string][] = [];
  for (let i = 0; i < parts; i++) {
    // Copy A walks the ring; copy B is a fixed, non-zero offset further on, which rotates with each
    // lap so pairs vary (and never coincide: offset is in 1..k-1).
    const a = i % k;
    const offset = 1 + (Math.floor(i / k) % (k - 1));
    out.push([nodes[a]!, nodes[(a + offset) % k]!]);
  }
  return out;
}

/**
 * Where a part that lost copies gets new ones: live nodes that do not already hold a good copy,
 * least loaded first (by how many copies each holds across the snapshot), then by id.
 */
export function repairTargets(need: number, holders: readonly string[], live: readonly string[], load: ReadonlyMap<string, number>): string[] {
  const candidates = live.filter((n) => !holders.includes(n));
  candidates.sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  return candidates.slice(0, need);
}
