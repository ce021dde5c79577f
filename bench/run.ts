/**
 * Benchmark dispatcher: `node dist/bench/run.js <name> [--quick] [--profile]`.
 * Prints the benchmark's table to stdout (progress goes to stderr) and writes its JSON to
 * bench/results/<name>-<timestamp>.json and bench/results/<name>-latest.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import {runFleet} from './fleet.js';
import {runRaft} from './raft.js';
import {runSnapshot} from './snapshot.js';
import {runTransport} from './transport.js';

export interface BenchOptions {
  /** Small counts: a ~10 s smoke run. */
  quick: boolean;
  /** Run the benchmark's processes under `node --cpu-prof` and summarise the profiles. */
  profile: boolean;
}

export interface BenchOutput {
  table: string;
  data: Record<string, unknown>;
}

const BENCHMARKS: Record<string, (opts: BenchOptions) => Promise<BenchOutput>> = {
  transport: runTransport,
  raft: runRaft,
  fleet: runFleet,
  snapshot: runSnapshot,
};
const FLAGS = new Set(['--quick', '--profile']);

/** dist/bench/run.js -> <project>/bench/results */
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const names = args.filter((a) => !a.startsWith('--'));
  const flags = args.filter((a) => a.startsWith('--'));
  const usage = `usage: run.js <${Object.keys(BENCHMARKS).join('|')}> [--quick] [--profile]`;
  const name = names[0];
  if (names.length !== 1 || !name || !(name in BENCHMARKS)) {
    console.error(`unknown benchmark ${name === undefined ? '(none given)' : JSON.stringify(name)}; available: ${Object.keys(BENCHMARKS).join(', ')} (${usage})`);
    return 2;
  }
  const badFlag = flags.find((f) => !FLAGS.has(f));
  if (badFlag) {
    console.error(`unknown option ${badFlag}; ${usage}`);
    return 2;
  }
  const opts: BenchOptions = {quick: flags.includes('--quick'), profile: flags.includes('--profile')};
  const out = await BENCHMARKS[name]!(opts);
  process.stdout.write(out.table + '\n');

  fs.mkdirSync(RESULTS_DIR, {recursive: true});
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify(out.data, null, 2) + '\n';
  const file = path.join(RESULTS_DIR, `${name}-${stamp}.json`);
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(RESULTS_DIR, `${name}-latest.json`), json);
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), file)} (and ${name}-latest.json)\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
