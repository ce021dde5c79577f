import {placeParts, repairTargets} from '../../../src/core/snapshot/placement.js';
import {mulberry32} from '../../sim/rng.js';

describe('RAID-10 placement', () => {
  test.each(Array.from({length: 300}, (_, i) => i + 1))('random fleet, seed %i: two copies on two different nodes; no single loss loses a part; load is even', (seed) => {
    const rand = mulberry32(seed);
    const n = 2 + Math.floor(rand() * 19); // 2..20 nodes
    const parts = 1 + Math.floor(rand() * 64);
    const peers = Array.from({length: n}, (_, i) => `node-${(i * 7919 + seed) % 1000}`);
    const placed = placeParts(parts, peers);
    expect(placed).toHaveLength(parts);
    for (const [a, b] of placed) {
      expect(a).not.toBe(b);
      expect(peers).toContain(a);
      expect(peers).toContain(b);
    }
    for (const lost of peers) expect(placed.every((pair) => pair.some((x) => x !== lost))).toBe(true);
    const load = new Map<string, number>();
    for (const pair of placed) for (const x of pair) load.set(x, (load.get(x) ?? 0) + 1);
    const counts = peers.map((p) => load.get(p) ?? 0);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
  });

  test('fewer than two peers is refused with what to do', () => {
    expect(() => placeParts(4, ['only'])).toThrow(/at least 2 live peers/);
  });

  test('repair picks live nodes without a copy, least loaded first', () => {
    expect(repairTargets(1, ['a'], ['a', 'b', 'c'], new Map([['b', 5], ['c', 1]]))).toEqual(['c']);
    expect(repairTargets(2, ['a', 'b'], ['a', 'b'], new Map())).toEqual([]);
  });
});
