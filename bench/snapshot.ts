/**
 * Snapshot benchmark: `snapshot create` + `snapshot restore` of 256 MiB of state (32 MiB with
 * --quick) across 4 local swarm nodes, against `tar` + `cp` of the same bytes on the same disk.
 * The two sides alternate, 3 rounds (1 with --quick); medians of MB/s, the ratio swarm/baseline
 * (target >= 0.5 for create and for restore), each node's peak RSS, and where swarm's time goes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type {BenchOptions, BenchOutput} from './run.js';
import {benchScratch, Procs} from './raft-clusters.js';
import type {Proc} from './raft-clusters.js';
import {machineFacts} from './machine.js';
import {summariseProfile} from './cpuprofile.js';
import {baselineCreate, baselineDirs, baselineRestore, BASELINE_CREATE, BASELINE_RESTORE, clearMirrors, run} from './snapshot-baseline.js';
import type {StepTimes} from './snapshot-baseline.js';
import {startSnapshotCluster} from './snapshot-cluster.js';
import {renderReport} from './snapshot-report.js';
import type {BaselineRound, SnapshotPlan} from './snapshot-report.js';
import {assertSameTree, stateShape, treeHashes, writeState} from './snapshot-state.js';
import {cliRound, PARTS, swarmRound} from './snapshot-swarm.js';
import type {CliRound, SwarmRound} from './snapshot-swarm.js';

const MiB = 1024 * 1024;

function plan(quick: boolean): SnapshotPlan {
  return {stateBytes: (quick ? 32 : 256) * MiB, reps: quick ? 1 : 3, parts: PARTS, nodes: 4, target: 0.5};
}

export async function runSnapshot(opts: BenchOptions): Promise<BenchOutput> {
  const p = plan(opts.quick);
  const started = new Date();
  const log = (msg: string): void => void process.stderr.write(`[snapshot] ${msg}\n`);
  const procs = new Procs();
  // Everything under one temp dir: nodes' data dirs, the state, restores and the baseline's files
  // share one disk, so both sides read and write the same device.
  const {dir, profileDir, release} = benchScratch('snapshot', procs, opts.profile);

  const swarm: SwarmRound[] = [];
  const baseline: BaselineRound[] = [];
  const warmup: {swarm?: SwarmRound; baseline?: BaselineRound} = {};
  const nodeProcs: Proc[] = [];
  let cli: CliRound | undefined;
  let command = '';
  let creator = '';
  const state = path.join(dir, 'state');
  const shape = stateShape(p.stateBytes);
  try {
    log(`writing ${p.stateBytes / MiB} MiB of state in ${dir} (${shape.big.count} x ${shape.big.bytes / MiB} MiB, ${shape.medium.count} x ${shape.medium.bytes / MiB} MiB, ${shape.small.count} x ${shape.small.bytes / 1024} KiB)`);
    const written = writeState(state, shape);
    if (written !== p.stateBytes) throw new Error(`state is ${written} bytes, planned ${p.stateBytes}`);
    await run('sync', []);
    const want = treeHashes(state);

    const cluster = await startSnapshotCluster(procs, dir, {...(profileDir ? {profileDir} : {}), log});
    command = cluster.command;
    nodeProcs.push(...cluster.nodes.map((n) => n.proc));
    const node = cluster.nodes[0]!;
    creator = node.name;
    const bdirs = baselineDirs(path.join(dir, 'baseline'));
    const baselineRound = async (out: string): Promise<BaselineRound> => {
      await run('sync', []);
      const create: StepTimes = await baselineCreate(state, bdirs);
      await run('sync', []);
      const restore: StepTimes = await baselineRestore(bdirs, out);
      assertSameTree(want, out, 'tar restore');
      fs.rmSync(out, {recursive: true, force: true});
      clearMirrors(bdirs);
      return {create, restore};
    };
    // Round 0 is a warm-up of both sides on the same state (untimed in the figures): the nodes'
    // first large transfer runs well below their steady pace (JIT, buffers), and the page cache
    // holds the state for both sides alike from here on.
    for (let rep = 0; rep <= p.reps; rep++) {
      const order = rep % 2 === 1 ? (['swarm', 'baseline'] as const) : (['baseline', 'swarm'] as const);
      const tag = rep === 0 ? 'warm-up' : `#${rep}`;
      for (const side of order) {
        if (side === 'swarm') {
          const r = await swarmRound(cluster, node, state, path.join(dir, `restored-swarm-${rep}`), want);
          if (rep === 0) warmup.swarm = r;
          else swarm.push(r);
          log(`swarm ${tag}: create ${Math.round(r.create.ms)} ms, restore ${Math.round(r.restore.ms)} ms (payload ${r.payloadBytes} B, ${r.restore.files} files)`);
        } else {
          const b = await baselineRound(path.join(dir, `restored-tar-${rep}`));
          if (rep === 0) warmup.baseline = b;
          else baseline.push(b);
          log(`tar+cp ${tag}: create ${Math.round(b.create.total!)} ms, restore ${Math.round(b.restore.total!)} ms`);
        }
      }
    }
    cli = await cliRound(node, state, path.join(dir, 'restored-cli'), want);
    log(`swarm CLI: create ${Math.round(cli.createMs)} ms, restore ${Math.round(cli.restoreMs)} ms, \`snapshot list\` ${Math.round(cli.listMs)} ms`);
  } catch (err) {
    // Say which node died and why before the cluster goes.
    for (const n of nodeProcs) if (n.child.exitCode !== null || n.child.signalCode !== null) log(`${n.label} exited (${n.child.exitCode ?? n.child.signalCode}): ${n.stderrTail().slice(-1500)}`);
    throw err;
  } finally {
    await release(5000);
  }

  const profiles = profileDir
    ? fs
        .readdirSync(profileDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
        .map((f) => ({node: f.replace(/^swarm-|\.cpuprofile$/g, ''), ...summariseProfile(path.join(profileDir, f), 10)}))
    : undefined;

  const report = renderReport({plan: p, shape, quick: opts.quick, profiled: opts.profile, creator, swarm, ...(warmup.swarm ? {warmupSwarm: warmup.swarm} : {}), baseline, ...(cli ? {cli} : {}), ...(profiles ? {profiles, profileDir: profileDir!} : {})});
  const finished = new Date();
  const data = {
    benchmark: 'snapshot',
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    options: opts,
    machine: machineFacts({}),
    method: {
      where: `127.0.0.1; one temp dir under ${os.tmpdir()} holds the state, the 4 nodes' data dirs, the restores and the baseline's files (one disk)`,
      swarm: {
        nodes: command,
        create: `control socket of ${creator}: snapshot.create {parts: ${p.parts}, include: [<state>]} (payload written to a scratch file and hashed whole and per part in one pass, each part sent to 2 peers which hash and fsync it, manifest through Raft)`,
        restore: `control socket of ${creator}: snapshot.restore {id, to: <fresh dir>} (verify every copy, fetch the parts 4 at a time into a scratch file, hash each and the whole, apply in one StateTransaction: extract, fsync, link, commit); byte-identical check of <to>/include/state afterwards (untimed)`,
        cli: 'once at the end, the same through `node bin/run.js snapshot create|restore ... --json`, timed from spawn to exit',
      },
      baseline: {create: BASELINE_CREATE, restore: BASELINE_RESTORE, note: 'one bash script per operation, steps timed with $EPOCHREALTIME (no bash start-up in the total); the scratch archive is removed before sync -f (syncfs of the filesystem), so what is kept is on disk, as with swarm\'s fsyncs, and the scratch need not be'},
      fairness: 'a warm-up round of each side first (not in the figures); a `sync` (untimed) before every timed operation; the state is in the page cache for both sides (written just before); sides alternate each round; MB/s = state bytes / 10^6 / s for both sides',
      memory: 'VmHWM of every node from /proc/<pid>/status, reset with clear_refs (5) before each operation, plus VmRSS sampled every 20 ms; CPU from /proc/<pid>/stat',
      stall: `${creator}'s control socket polled with \`status\` every 100 ms on its own connection during each operation; the slowest answer`,
      phases: 'the steps the node timed itself (snapshot.progress -> steps), read after each call returned',
      plan: p,
      shape,
    },
    ...report.data,
    runs: {swarm, baseline, cli: cli ?? null, warmup},
    ...(profiles ? {profiles} : {}),
  };
  return {table: report.table, data};
}
