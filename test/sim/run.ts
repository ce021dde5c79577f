/**
 * `npm run sim -- [--seeds N] [--from S] [--seed S] [--nodes 3|5] [--ms T]`: runs the Raft simulator over
 * many seeds; a failure prints its seed and the command that replays it, and exits 1.
 */
import {RaftSim, SimFailure} from './raft-sim.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const single = process.argv.includes('--seed');
const from = single ? arg('seed', 1) : arg('from', 1);
const count = single ? 1 : arg('seeds', 100);
const nodeCounts = process.argv.includes('--nodes') ? [arg('nodes', 3)] : [3, 5];
const faultMs = arg('ms', 6000);
let failed = 0;
const t0 = Date.now();
let ops = 0;
for (let seed = from; seed < from + count; seed++) {
  for (const nodes of nodeCounts) {
    try {
      const r = new RaftSim({seed, nodes, faultMs, healMs: 20_000, clients: 4, keys: 3, membershipChanges: nodes === 5}).run();
      ops += r.ops;
      if (single) process.stdout.write(`seed ${seed} nodes ${nodes}: ${JSON.stringify(r)}\n`);
    } catch (err) {
      failed++;
      process.stdout.write(`${err instanceof SimFailure ? err.message : `seed ${seed} nodes ${nodes}: ${(err as Error).stack}`}\n`);
    }
  }
}
process.stdout.write(`${count * nodeCounts.length - failed} passed, ${failed} failed (seeds ${from}..${from + count - 1}, ${ops} client ops, ${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
process.exit(failed > 0 ? 1 : 0);
