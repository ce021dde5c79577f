/**
 * RAID-10 snapshots across four real node processes on loopback: create, lose a node (kill -9) and
 * restore byte-identical from the survivors; a corrupted copy detected by its hash, the other copy
 * used, reported by verify and fixed by repair; both copies of a part gone refused with nothing
 * changed; and a restore killed half-way leaving the target wholly old or wholly new.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type {SnapshotManifest} from '../../src/core/snapshot/manifest.js';
import {StateTransaction} from '../../src/core/storage/index.js';
import {cleanup, cli, control, freePort, startMember, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';

const dir = tmpDir('snap');
const secret = writeJoinSecret(dir);
const NAMES = ['s1', 's2', 's3', 's4'];
const nodes = new Map<string, RunningNode>();
const ids = new Map<string, string>();
const ports: number[] = [];
const state = path.join(dir, 'memory');

function start(name: string, env?: Record<string, string>): RunningNode {
  const node = startMember({names: NAMES, ports, dir, secret}, name, env);
  nodes.set(name, node);
  return node;
}

/** path -> sha256 of every file under root (the journal dir excluded), to compare trees byte for byte. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      if (e.name === '.swarm-txn') continue;
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else out[r] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  if (fs.existsSync(root)) walk(root, '');
  return out;
}

const nameOf = (id: string): string => [...ids].find(([, v]) => v === id)![0];
const partFile = (holder: string, snap: string, index: number): string => path.join(dir, holder, 'snapshot-parts', snap, `${index}.part`);

beforeAll(async () => {
  fs.mkdirSync(path.join(state, 'nested'), {recursive: true});
  fs.writeFileSync(path.join(state, 'big.bin'), crypto.randomBytes(3 * 1024 * 1024 + 17));
  fs.writeFileSync(path.join(state, 'nested', 'notes.txt'), 'agent memory\n'.repeat(1000));
  fs.writeFileSync(path.join(state, 'empty'), '');
  for (let i = 0; i < NAMES.length; i++) ports.push(await freePort());
  for (const n of NAMES) start(n);
  for (const n of NAMES) ids.set(n, (await waitUp(nodes.get(n)!)).id);
  await waitFor('all four registered', async () => {
    const f = await control(nodes.get('s1')!, 'fleet', null).catch(() => undefined);
    return f && f.members.filter((m) => m.registered && m.state === 'alive').length === 4 ? f : undefined;
  }, 30_000);
}, 60_000);

afterAll(() => {
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

let snap: SnapshotManifest;

describe('snapshots on four nodes', () => {
  test('create: parts striped over the peers, each on two different nodes, the manifest replicated', async () => {
    snap = await control(nodes.get('s1')!, 'snapshot.create', {parts: 6, label: 'test', include: [state]}, 120_000);
    expect(snap.parts).toHaveLength(6);
    for (const p of snap.parts) {
      expect(new Set(p.copies).size).toBe(2);
      expect(p.copies).not.toContain(ids.get('s1'));
      for (const c of p.copies) expect(fs.existsSync(partFile(nameOf(c), snap.id, p.index))).toBe(true);
    }
    expect(snap.entries.map((e) => e.rel)).toEqual(expect.arrayContaining(['state/kv.json', 'include/memory/big.bin', 'include/memory/nested/notes.txt', 'include/memory/empty']));
    expect(snap.entries.map((e) => e.rel).some((r) => /identity\.key|join\.secret|control\.sock/.test(r))).toBe(false);
    // Any member sees the manifest.
    const seen = await control(nodes.get('s4')!, 'snapshot.list', null);
    expect(seen.map((m) => m.id)).toContain(snap.id);
    const v = await control(nodes.get('s2')!, 'snapshot.verify', {id: snap.id.slice(0, 6)});
    expect(v).toMatchObject({healthy: true, restorable: true, degraded: [], lost: []});
  }, 120_000);

  test('many more parts than are sent at once: created healthy, restored byte-identical, removed', async () => {
    const many = await control(nodes.get('s3')!, 'snapshot.create', {parts: 300, include: [state]}, 120_000);
    expect(many.parts).toHaveLength(300);
    expect(await control(nodes.get('s1')!, 'snapshot.verify', {id: many.id})).toMatchObject({healthy: true});
    const to = path.join(dir, 'restored-many');
    await control(nodes.get('s3')!, 'snapshot.restore', {id: many.id, to}, 120_000);
    expect(tree(path.join(to, 'include', 'memory'))).toEqual(tree(state));
    await control(nodes.get('s3')!, 'snapshot.rm', {id: many.id});
  }, 120_000);

  test('kill -9 one node: restore is byte-identical from the survivors', async () => {
    nodes.get('s2')!.proc.kill('SIGKILL');
    await nodes.get('s2')!.exited;
    const to = path.join(dir, 'restored-1');
    const r = await control(nodes.get('s1')!, 'snapshot.restore', {id: snap.id, to}, 120_000);
    expect(r.servedBy.map((s) => s.node)).not.toContain('s2');
    expect(tree(path.join(to, 'include', 'memory'))).toEqual(tree(state));
    const v = await cli(['snapshot', 'verify', snap.id, '--data-dir', nodes.get('s1')!.dataDir]);
    expect(v.code).toBe(5); // degraded: s2's copies are unreachable
    expect(v.stdout).toMatch(/degraded: parts/);
  }, 120_000);

  test('a corrupted copy is detected by its hash, the other copy is used, verify names it, repair fixes it', async () => {
    const p = snap.parts.find((x) => !x.copies.includes(ids.get('s2')!))!;
    const holder = nameOf(p.copies[0]!);
    const f = partFile(holder, snap.id, p.index);
    const bytes = fs.readFileSync(f);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    fs.writeFileSync(f, bytes);
    const v = await control(nodes.get('s1')!, 'snapshot.verify', {id: snap.id});
    expect(v.parts[p.index]!.copies.find((c) => c.name === holder)!.status).toBe('corrupt');
    expect(v.degraded).toContain(p.index);
    const to = path.join(dir, 'restored-2');
    const r = await control(nodes.get('s1')!, 'snapshot.restore', {id: snap.id, to}, 120_000);
    expect(r.servedBy.find((s) => s.index === p.index)!.node).toBe(nameOf(p.copies[1]!));
    expect(tree(path.join(to, 'include', 'memory'))).toEqual(tree(state));

    const fixed = await control(nodes.get('s3')!, 'snapshot.repair', {id: snap.id}, 120_000);
    expect(fixed.repaired.length).toBeGreaterThan(0);
    expect(fixed).toMatchObject({healthy: true, degraded: [], lost: []});
    const after = await control(nodes.get('s1')!, 'snapshot.list', null);
    for (const part of after.find((m) => m.id === snap.id)!.parts) {
      expect(new Set(part.copies).size).toBe(2);
      expect(part.copies).not.toContain(ids.get('s2'));
    }
  }, 120_000);

  test('both copies of a part gone: restore refuses (exit 3), names the part, and changes nothing', async () => {
    const m = (await control(nodes.get('s1')!, 'snapshot.list', null)).find((x) => x.id === snap.id)!;
    const victim = m.parts[2]!;
    for (const c of victim.copies) fs.rmSync(partFile(nameOf(c), snap.id, victim.index));
    const to = path.join(dir, 'restored-3');
    fs.mkdirSync(to);
    fs.writeFileSync(path.join(to, 'keep.txt'), 'old state\n');
    const before = tree(to);
    const r = await cli(['snapshot', 'restore', snap.id, '--to', to, '--data-dir', nodes.get('s1')!.dataDir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`parts ${victim.index} have no good copy`));
    expect(tree(to)).toEqual(before);
  }, 120_000);

  test('a restore killed half-way leaves the target wholly old or wholly new', async () => {
    const s4 = nodes.get('s4')!;
    const fresh = await control(s4, 'snapshot.create', {parts: 3, include: [state]}, 120_000);
    const to = path.join(dir, 'restored-4');
    fs.mkdirSync(to);
    fs.writeFileSync(path.join(to, 'keep.txt'), 'old state\n');
    const before = tree(to);
    // s4 again, armed to die in the middle of applying the restore's transaction.
    s4.proc.kill('SIGTERM');
    await s4.exited;
    const armed = start('s4', {SWARM_FAULT: 'txn:mid-apply:3'});
    await waitUp(armed);
    await expect(control(armed, 'snapshot.restore', {id: fresh.id, to}, 120_000)).rejects.toThrow();
    await armed.exited;
    StateTransaction.recover(to);
    const got = tree(to);
    // Rolled forward: the commit mark was down before the kill. Either way never a mix.
    const restored = tree(path.join(to, 'include', 'memory'));
    if (Object.keys(restored).length === 0) expect(got).toEqual(before);
    else expect(restored).toEqual(tree(state));
    expect(got['keep.txt']).toBe(before['keep.txt']);
  }, 180_000);
});
