/**
 * The command line end to end: bin/run.js with real flags, exit codes, --json, --detach, --endpoint, --watch.
 */
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {BIN, cleanup, cli, freePort, startNode, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';

const dir = tmpDir('cli');
afterAll(() => {
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

describe('usage errors exit 2 with one line', () => {
  test('unknown flag', async () => {
    const r = await cli(['node', 'status', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bogus/);
  });

  test('a flag value out of range says which flag and what it takes, on one line', async () => {
    const r = await cli(['snapshot', 'create', '--parts', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--parts: Expected an integer greater than or equal to 1 but received: 0 \(see --help\)/);
    const j = await cli(['snapshot', 'create', '--json', '--parts', 'many']);
    expect(JSON.parse(j.stderr)).toMatchObject({error: {code: 'usage', message: expect.stringMatching(/--parts: Expected an integer but received: many/)}});
  });

  test('unknown flag under --json is a JSON error on stderr', async () => {
    const r = await cli(['fleet', 'status', '--json', '--bogus']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr)).toMatchObject({error: {code: 'usage'}});
    expect(r.stdout).toBe('');
  });

  test('bad duration names the flag', async () => {
    const r = await cli(['node', 'start', '--data-dir', path.join(dir, 'x'), '--suspect-after', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--suspect-after/);
  });

  test('inconsistent timings', async () => {
    const r = await cli(['node', 'start', '--data-dir', path.join(dir, 'x'), '--suspect-after', '5s', '--dead-after', '2s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--dead-after/);
  });

  test('a join secret readable by others is refused with the fix', async () => {
    const f = path.join(dir, 'open.secret');
    fs.writeFileSync(f, 'open-secret-0123456789abcdef');
    fs.chmodSync(f, 0o644);
    const r = await cli(['node', 'start', '--data-dir', path.join(dir, 'x'), '--join-secret-file', f, '--no-mdns', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/chmod 600/);
    expect(r.stderr).not.toMatch(/open-secret/);
  });

  test('a wildcard bind needs --advertise, and cannot run mDNS', async () => {
    const r = await cli(['node', 'start', '--data-dir', path.join(dir, 'x'), '--bind', '0.0.0.0', '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--advertise/);
    const m = await cli(['node', 'start', '--data-dir', path.join(dir, 'x'), '--bind', '0.0.0.0', '--advertise', 'tcp://127.0.0.1:1', '--port', '0']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--no-mdns/);
  });

  test('bad label', async () => {
    const r = await cli(['node', 'start', '--data-dir', path.join(dir, 'x'), '--label', 'no-equals-sign']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key=value/);
  });
});

test('node init creates identity and join secret (0600), never prints the secret, refuses to overwrite', async () => {
  const d = path.join(dir, 'init');
  const r = await cli(['node', 'init', '--join-secret', '--json', '--data-dir', d]);
  expect(r.code).toBe(0);
  const out = r.json as {id: string; joinSecretFile: string; identityCreated: boolean};
  expect(out.identityCreated).toBe(true);
  expect(out.id).toMatch(/^[0-9a-f]{32}$/);
  const secret = fs.readFileSync(out.joinSecretFile, 'utf8').trim();
  expect(fs.statSync(out.joinSecretFile).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.join(d, 'identity.key')).mode & 0o777).toBe(0o600);
  expect(r.stdout + r.stderr).not.toContain(secret);
  const again = await cli(['node', 'init', '--join-secret', '--data-dir', d]);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/--force/);
});

test('--detach returns once the node answers; --endpoint reaches it over the secure transport; node stop ends it', async () => {
  const d = path.join(dir, 'detached');
  const secret = writeJoinSecret(dir);
  const port = await freePort();
  const r = await cli(['node', 'start', '--detach', '--json', '--data-dir', d, '--port', String(port), '--no-mdns', '--join-secret-file', secret, '--name', 'bg', '--label', 'zone=a']);
  expect(r.code).toBe(0);
  const st = r.json as {pid: number; id: string; name: string; labels: Record<string, string>};
  expect(st.name).toBe('bg');
  expect(st.labels).toEqual({zone: 'a'});
  try {
    // attach remotely, as an operator on another machine would (its own data dir for the operator key)
    const op = path.join(dir, 'operator');
    const remote = await cli(['node', 'status', '--json', '--data-dir', op, '--endpoint', `tcp://127.0.0.1:${port}`, '--join-secret-file', secret]);
    expect(remote.code).toBe(0);
    expect(remote.json).toMatchObject({id: st.id, pid: st.pid});
    const wrong = path.join(dir, 'wrong.secret');
    fs.writeFileSync(wrong, 'wrong-secret-0123456789abcdef', {mode: 0o600});
    const refused = await cli(['node', 'status', '--data-dir', op, '--endpoint', `127.0.0.1:${port}`, '--join-secret-file', wrong, '--timeout', '1500ms']);
    expect(refused.code).toBe(4);
    // a second node on the same data dir is refused, and the first keeps running
    const twice = await cli(['node', 'start', '--data-dir', d, '--port', '0', '--no-mdns', '--join-secret-file', secret]);
    expect(twice.code).toBe(6);
    expect(twice.stderr).toMatch(/already running/);
    expect((await cli(['node', 'status', '--data-dir', d])).code).toBe(0);
    // the same port again is a conflict
    const clash = await cli(['node', 'start', '--data-dir', path.join(dir, 'clash'), '--port', String(port), '--no-mdns', '--join-secret-file', secret]);
    expect(clash.code).toBe(6);
    expect(clash.stderr).toMatch(/in use/);
  } finally {
    const stop = await cli(['node', 'stop', '--data-dir', d]);
    expect(stop.code).toBe(0);
  }
  expect(() => process.kill(st.pid, 0)).toThrow();
}, 40_000);

test('fleet status --watch, piped, prints one JSON line per change', async () => {
  const secret = writeJoinSecret(dir);
  const [pa, pb] = [await freePort(), await freePort()];
  const a = startNode({name: 'wa', dataDir: path.join(dir, 'wa'), port: pa, joinSecretFile: secret});
  await waitUp(a);
  const watch = spawn(process.execPath, [BIN, 'fleet', 'status', '--watch', '--interval', '200ms', '--data-dir', a.dataDir], {stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  watch.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as {members: {name: string; state: string}[]});
    await waitFor('first line', () => lines().length === 1, 10_000);
    expect(lines()[0]!.members.map((m) => m.name)).toEqual(['wa']);
    const b = startNode({name: 'wb', dataDir: path.join(dir, 'wb'), port: pb, peers: [pa], joinSecretFile: secret});
    await waitFor('a line showing wb alive', () => lines().some((l) => l.members.some((m) => m.name === 'wb' && m.state === 'alive')), 15_000);
    const n = lines().length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(lines().length).toBe(n); // nothing changed, nothing printed
    process.kill(b.proc.pid!, 'SIGTERM');
    await waitFor('a line showing wb left', () => lines().some((l) => l.members.some((m) => m.name === 'wb' && m.state === 'left')), 10_000);
  } finally {
    watch.kill('SIGTERM');
  }
}, 40_000);

test('SIGINT stops gracefully with exit 0', async () => {
  const secret = writeJoinSecret(dir);
  const one = startNode({name: 's1', dataDir: path.join(dir, 's1'), port: await freePort(), joinSecretFile: secret});
  await waitUp(one);
  const t0 = Date.now();
  process.kill(one.proc.pid!, 'SIGINT');
  expect((await one.exited).code).toBe(0);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(one.stderr()).toMatch(/"msg":"node stopped"/);
}, 30_000);
