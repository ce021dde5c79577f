/**
 * CI's slice of the Raft simulation: 300 seeds (3 and 5 nodes, drops, duplication, delay, reordering,
 * partitions, crash-restart from disk, membership changes on 5), every invariant checked after every
 * event and each history checked for linearizability. `npm run sim -- --seeds 10000` runs more.
 */
import {RaftSim, SimFailure} from './raft-sim.js';

const SEEDS = Number(process.env.SWARM_SIM_SEEDS ?? 300);

test(`raft survives ${SEEDS} seeds x (3 and 5 nodes) of chaos, linearizably`, () => {
  const failures: string[] = [];
  let completed = 0;
  let crashes = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    for (const nodes of [3, 5]) {
      try {
        const r = new RaftSim({seed, nodes, faultMs: 4000, healMs: 20_000, clients: 4, keys: 3, membershipChanges: nodes === 5}).run();
        completed += r.completed;
        crashes += r.crashes;
      } catch (err) {
        failures.push(err instanceof SimFailure ? err.message : `seed ${seed} nodes ${nodes}: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
  expect(failures).toEqual([]);
  // The runs did real work under real faults.
  expect(completed).toBeGreaterThan(SEEDS * 20);
  expect(crashes).toBeGreaterThan(0);
}, 600_000);
