/**
 * One swarm round of the snapshot benchmark: `snapshot.create` of the state dir on one node through
 * its control socket, then `snapshot.restore` into a fresh dir on the same node, each timed, with
 * the nodes' memory, CPU and stalls watched and the steps the node timed read back; the restored
 * tree must be byte-identical.
 */
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {performance} from 'node:perf_hooks';

import type {SnapCluster, SnapNode} from './snapshot-cluster.js';
import {measured} from './snapshot-resources.js';
import type {NodeMemory} from './snapshot-resources.js';
import {stepsOf} from './snapshot-phases.js';
import type {Phases} from './snapshot-phases.js';
import {assertSameTree} from './snapshot-state.js';
import {run} from './snapshot-baseline.js';
import {SWARM_BIN} from './raft-clusters.js';

export const PARTS = 8;
const CALL_TIMEOUT_MS = 900_000;

export interface SwarmOp {
  ms: number;
  phases: Phases;
  memory: NodeMemory[];
  /** Longest wait for the working node's control socket to answer during the operation. */
  maxStallMs: number;
}

export interface SwarmRound {
  id: string;
  payloadBytes: number;
  create: SwarmOp;
  restore: SwarmOp & {files: number};
}

/**
 * Creates on `node`, restores to `target` (must not exist), checks it against `want` (the state's
 * tree hashes), then removes the snapshot and the restored dir. A `sync` (untimed) before each timed
 * call so earlier writes are not charged to it.
 */
export async function swarmRound(c: SnapCluster, node: SnapNode, state: string, target: string, want: Map<string, string>): Promise<SwarmRound> {
  const procs = c.nodes.map((n) => ({name: n.name, pid: n.proc.pid}));

  await run('sync', []);
  let t0 = performance.now();
  const created = await measured(procs, node.dataDir, () => c.call(node, 'snapshot.create', {parts: PARTS, label: 'bench', include: [state]}, CALL_TIMEOUT_MS));
  const createMs = performance.now() - t0;
  const m = created.result;
  const createPhases = await stepsOf(c, node, m.id);

  await run('sync', []);
  t0 = performance.now();
  const restored = await measured(procs, node.dataDir, () => c.call(node, 'snapshot.restore', {id: m.id, to: target}, CALL_TIMEOUT_MS));
  const restoreMs = performance.now() - t0;
  const restorePhases = await stepsOf(c, node, m.id);

  assertSameTree(want, path.join(target, 'include', path.basename(state)), `swarm restore of ${m.id}`);
  await c.call(node, 'snapshot.rm', {id: m.id}, 60_000);
  fs.rmSync(target, {recursive: true, force: true});
  return {
    id: m.id,
    payloadBytes: m.bytes,
    create: {ms: createMs, phases: createPhases, memory: created.memory, maxStallMs: created.maxStallMs},
    restore: {ms: restoreMs, phases: restorePhases, memory: restored.memory, maxStallMs: restored.maxStallMs, files: restored.result.files},
  };
}

export interface CliRound {
  createMs: number;
  restoreMs: number;
  /** A trivial command (`snapshot list --json`) from spawn to exit: the CLI's fixed cost. */
  listMs: number;
}

function cli(args: string[]): Promise<{ms: number; stdout: string}> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SWARM_BIN, ...args], {maxBuffer: 64 << 20, timeout: CALL_TIMEOUT_MS, env: {...process.env, NO_COLOR: '1'}}, (err, stdout, stderr) =>
      err ? reject(new Error(`swarm ${args.join(' ')} failed: ${err.message} ${stderr}`)) : resolve({ms: performance.now() - t0, stdout}),
    );
  });
}

/** The same round through the real CLI (`node bin/run.js snapshot ... --json`), each command timed from spawn to exit. */
export async function cliRound(node: SnapNode, state: string, target: string, want: Map<string, string>): Promise<CliRound> {
  const dd = ['--data-dir', node.dataDir, '--json'];
  const list = await cli(['snapshot', 'list', ...dd]);
  await run('sync', []);
  const created = await cli(['snapshot', 'create', '--parts', String(PARTS), '--label', 'bench-cli', '--include', state, ...dd]);
  const id = (JSON.parse(created.stdout) as {id: string}).id;
  await run('sync', []);
  const restored = await cli(['snapshot', 'restore', id, '--to', target, ...dd]);
  assertSameTree(want, path.join(target, 'include', path.basename(state)), `swarm CLI restore of ${id}`);
  await cli(['snapshot', 'rm', id, ...dd]);
  fs.rmSync(target, {recursive: true, force: true});
  return {createMs: created.ms, restoreMs: restored.ms, listMs: list.ms};
}
