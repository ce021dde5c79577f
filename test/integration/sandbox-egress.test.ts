/**
 * Egress allow-rules, both runners: with `127.0.0.1:A` allowed a sandboxed busybox `nc` reaches a
 * server on the host's loopback port A (bytes both ways, half-close included) but not port B; with no
 * rule it reaches neither; bad rules are refused; the sandbox cannot re-address its namespace; nothing
 * (namespace, container, relay socket) outlives a run. Traffic only goes to the host's own addresses
 * and into namespaces these runs create and delete.
 * Needs root (network namespaces), bwrap for the process runner and a local engine for docker; where
 * they are missing the tests warn and pass, except under CI, where they fail.
 */
import {execFile} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {promisify} from 'node:util';

import Dockerode from 'dockerode';

import {DockerRunner, SANDBOX_LABEL} from '../../src/core/sandbox/docker-runner.js';
import {createNamedNetns, NETNS_PREFIX} from '../../src/core/sandbox/egress-netns.js';
import {startEgressRelay} from '../../src/core/sandbox/egress-relay.js';
import {EgressRuleError, hostsFileText, parseEgressRule, parseEgressRules, planEgress} from '../../src/core/sandbox/egress-rules.js';
import {ProcessRunner} from '../../src/core/sandbox/process-runner.js';
import type {Sandbox, SandboxSpec} from '../../src/core/sandbox/types.js';
import {dockerAvailable, ensureBusyboxImage} from '../helpers/docker.js';

const run = promisify(execFile);
const OUR_NETNS = `${NETNS_PREFIX}${process.pid}-`;
const EGRESS_IMAGE = 'swarm-busybox:egress-test';
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p));

async function ourNamespaces(): Promise<string[]> {
  const {stdout} = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(OUR_NETNS));
}

/** Why egress cannot be exercised here, or null. */
function egressBlocker(): string | null {
  if (process.platform !== 'linux') return 'egress needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'egress needs root (network namespaces)';
  if (!BUSYBOX) return 'no busybox on this host (install busybox-static)';
  return null;
}

function skip(reason: string): void {
  if (process.env.CI) throw new Error(`egress tests cannot run under CI: ${reason}`);
  console.warn(`egress tests not run: ${reason}`);
}

/** A host TCP server that records what arrives and answers `got <n>` once the client half-closes. */
interface Server {
  port: number;
  host: string;
  connections: number;
  received: string;
  close(): Promise<void>;
}

async function startServer(host = '127.0.0.1'): Promise<Server> {
  const sockets = new Set<net.Socket>();
  const s: Server = {port: 0, host, connections: 0, received: '', close: async () => undefined};
  const server = net.createServer({allowHalfOpen: true}, (sock) => {
    s.connections++;
    sockets.add(sock);
    let n = 0;
    sock.on('data', (d: Buffer) => {
      n += d.length;
      if (s.received.length < 200) s.received += d.toString('latin1');
    });
    sock.on('end', () => sock.end(`got ${n}\n`));
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  s.port = (server.address() as net.AddressInfo).port;
  s.close = () =>
    new Promise<void>((resolve) => {
      for (const sock of sockets) sock.destroy();
      server.close(() => resolve());
    });
  return s;
}

/** The host's first non-loopback IPv4 address (traffic to it stays on this machine). */
function ownAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !a.internal)?.address;
}

describe('egress rules', () => {
  test('parse host:port; IPv4 or hostname; duplicates dropped', () => {
    expect(parseEgressRule('127.0.0.1:8080')).toEqual({host: '127.0.0.1', port: 8080});
    expect(parseEgressRule('API.Example.org.:443')).toEqual({host: 'api.example.org', port: 443});
    expect(parseEgressRules(['a.test:1', 'A.test:1', 'a.test:2'])).toEqual([
      {host: 'a.test', port: 1},
      {host: 'a.test', port: 2},
    ]);
  });

  test.each([
    ['example.org', /expected host:port/],
    [':80', /expected host:port/],
    ['example.org:0', /port must be a number from 1 to 65535/],
    ['example.org:65536', /port must be a number from 1 to 65535/],
    ['example.org:http', /port must be a number/],
    ['[::1]:80', /IPv6 is not supported/],
    ['::1:80', /IPv6 is not supported/],
    ['1.2.3:80', /not a valid IPv4 address/],
    ['256.1.1.1:80', /not a valid IPv4 address/],
    ['010.0.0.1:80', /not a valid IPv4 address/],
    ['0.0.0.0:80', /unspecified/],
    ['224.0.0.251:5353', /multicast/],
    ['bad_host!:80', /not a valid hostname/],
    ['-x.org:80', /not a valid hostname/],
  ])('refuses %j', (rule, why) => {
    expect(() => parseEgressRule(rule)).toThrow(EgressRuleError);
    expect(() => parseEgressRule(rule)).toThrow(why);
    expect(() => parseEgressRule(rule)).toThrow(`bad egress rule ${JSON.stringify(rule)}`);
  });

  test('a rule in a message stays one bounded line', () => {
    let message = '';
    try {
      parseEgressRule(`evil\nline${'x'.repeat(200)}`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain('\n');
    expect(message.length).toBeLessThan(200);
  });

  test('plans: names resolved once, addresses outside 127/8 made local, a hosts file', async () => {
    const plan = await planEgress(parseEgressRules(['api.test:443', 'api.test:80', '127.0.0.1:9', '10.1.2.3:443']), async (h) =>
      h === 'api.test' ? '10.1.2.3' : Promise.reject(Object.assign(new Error('nope'), {code: 'ENOTFOUND'})),
    );
    expect(plan.targets).toEqual([
      {ip: '10.1.2.3', port: 443},
      {ip: '10.1.2.3', port: 80},
      {ip: '127.0.0.1', port: 9},
    ]);
    expect(plan.extraAddresses).toEqual(['10.1.2.3']);
    expect(hostsFileText(plan)).toBe('127.0.0.1\tlocalhost\n10.1.2.3\tapi.test\n');
    await expect(planEgress(parseEgressRules(['nowhere.test:1']), async () => Promise.reject(Object.assign(new Error('x'), {code: 'ENOTFOUND'})))).rejects.toThrow(
      'egress host "nowhere.test" does not resolve to an IPv4 address (ENOTFOUND)',
    );
    await expect(planEgress(parseEgressRules(['mc.test:1']), async () => '239.1.1.1')).rejects.toThrow(/resolves to 239.1.1.1, which is a multicast/);
  });
});

describe('egress relay', () => {
  const blocker = egressBlocker();
  test('relays one namespace listener to its host destination and counts it', async () => {
    if (blocker) return skip(blocker);
    const server = await startServer();
    const ns = await createNamedNetns([]);
    try {
      const relay = await startEgressRelay(ns.enter, [{ip: '127.0.0.1', port: server.port}]);
      try {
        const {stdout} = await run('ip', ['netns', 'exec', ns.name, 'sh', '-c', `echo hello | ${BUSYBOX} nc -w 5 127.0.0.1 ${server.port}`]);
        expect(stdout).toBe('got 6\n');
        await new Promise((r) => setTimeout(r, 50));
        expect(relay.stats).toEqual({connections: 1, failed: 0, bytesOut: 6, bytesIn: 6});
      } finally {
        relay.close();
      }
      // Closed: the namespace's port no longer leads anywhere.
      await expect(run('ip', ['netns', 'exec', ns.name, BUSYBOX!, 'nc', '-w', '2', '127.0.0.1', String(server.port)])).rejects.toThrow();
      expect(server.connections).toBe(1);
    } finally {
      await ns.destroy();
      await server.close();
    }
    expect(await ourNamespaces()).toEqual([]);
  });

  test('a port taken inside the namespace fails the setup and leaves nothing open', async () => {
    if (blocker) return skip(blocker);
    const ns = await createNamedNetns([]);
    try {
      await expect(
        startEgressRelay(ns.enter, [
          {ip: '127.0.0.1', port: 4000},
          {ip: '127.0.0.1', port: 4000},
        ]),
      ).rejects.toThrow(/cannot listen on 127.0.0.1:4000: EADDRINUSE/);
      // /proc/net/tcp is the reader's namespace's table: no socket in LISTEN (state 0A) is left.
      const {stdout} = await run('ip', ['netns', 'exec', ns.name, 'cat', '/proc/net/tcp']);
      expect(stdout.split('\n').slice(1).filter((l) => l.split(/\s+/)[4] === '0A')).toEqual([]);
    } finally {
      await ns.destroy();
    }
  });
});

interface RunnerCase {
  name: 'process' | 'docker';
  /** null when usable; otherwise why not. */
  setup(): Promise<{runner: Sandbox; nc: string; base: Partial<SandboxSpec>} | string>;
}

const cases: RunnerCase[] = [
  {
    name: 'process',
    async setup() {
      const blocker = egressBlocker();
      if (blocker) return blocker;
      const runner = new ProcessRunner();
      const a = await runner.available();
      if (!a.ok) return `process runner unavailable: ${a.reason}`;
      return {runner, nc: `${BUSYBOX} nc`, base: {}};
    },
  },
  {
    name: 'docker',
    async setup() {
      const blocker = egressBlocker();
      if (blocker) return blocker;
      const a = await dockerAvailable();
      if (!a.ok) return `docker unavailable: ${a.reason}`;
      const docker = new Dockerode();
      // Its own tag, so the leftover check below cannot mix these containers up with other files' runs.
      return {runner: new DockerRunner({}), nc: 'nc', base: {image: await ensureBusyboxImage(docker, EGRESS_IMAGE)}};
    },
  },
];

describe.each(cases)('$name runner with egress rules', ({name, setup}) => {
  let ctx: {runner: Sandbox; nc: string; base: Partial<SandboxSpec>} | string = 'not set up';
  let dir = '';
  let A: Server;
  let B: Server;

  const spec = (script: string, allowEgress: string[], over: Partial<SandboxSpec> = {}): SandboxSpec => ({
    command: ['sh', '-c', script],
    workDir: dir,
    env: {},
    limits: {cpus: 1, memoryBytes: 128 * 1024 * 1024, pids: 64},
    timeoutMs: 15_000,
    maxOutputBytes: 1024 * 1024,
    allowEgress,
    ...(typeof ctx === 'string' ? {} : ctx.base),
    ...over,
  });
  const ready = (): {runner: Sandbox; nc: string} | null => {
    if (typeof ctx === 'string') {
      skip(`${name}: ${ctx}`);
      return null;
    }
    return ctx;
  };

  beforeAll(async () => {
    ctx = await setup();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-egress-'));
    fs.chmodSync(dir, 0o777);
    A = await startServer();
    B = await startServer();
  }, 60_000);
  afterAll(async () => {
    await A?.close();
    await B?.close();
    fs.rmSync(dir, {recursive: true, force: true});
  });

  test('an allowed host:port is reached (both ways, half-close included); another port is not', async () => {
    const c = ready();
    if (!c) return;
    const [a0, b0] = [A.connections, B.connections];
    const token = `ping-${name}-${process.pid}`;
    const script = [
      `echo ${token} | ${c.nc} -w 5 127.0.0.1 ${A.port}; echo "a=$?"`,
      `echo nope | ${c.nc} -w 2 127.0.0.1 ${B.port}; echo "b=$?"`,
    ].join('; ');
    const started = Date.now();
    const r = await c.runner.run(spec(script, [`127.0.0.1:${A.port}`]));
    console.log(`${name} egress run: ${Date.now() - started} ms`);
    expect(r.status).toBeNull();
    expect(r.exitCode).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain(`got ${token.length + 1}\na=0\n`);
    expect(out).toMatch(/b=[1-9]/);
    expect(A.received).toContain(token);
    expect(A.connections).toBe(a0 + 1);
    expect(B.connections).toBe(b0);
  }, 60_000);

  test('without a rule the host loopback is unreachable', async () => {
    const c = ready();
    if (!c) return;
    const a0 = A.connections;
    const started = Date.now();
    const r = await c.runner.run(spec(`echo x | ${c.nc} -w 2 127.0.0.1 ${A.port}; echo "a=$?"`, []));
    console.log(`${name} plain run: ${Date.now() - started} ms`);
    expect(r.status).toBeNull();
    expect(r.stdout.toString()).toMatch(/a=[1-9]/);
    expect(A.connections).toBe(a0);
  }, 60_000);

  test('a hostname rule is resolved outside and mapped in the sandbox', async () => {
    const c = ready();
    if (!c) return;
    const r = await c.runner.run(spec(`echo hi | ${c.nc} -w 5 localhost ${A.port}`, [`localhost:${A.port}`]));
    expect(r).toMatchObject({status: null, exitCode: 0});
    expect(r.stdout.toString()).toBe('got 3\n');
  }, 60_000);

  test('a non-loopback destination (this host\'s own address) is made local in the sandbox only', async () => {
    const c = ready();
    if (!c) return;
    const own = ownAddress();
    if (!own) return skip('no non-loopback IPv4 address on this host');
    const C = await startServer(own);
    try {
      const r = await c.runner.run(
        spec(`echo far | ${c.nc} -w 5 ${own} ${C.port}; echo "c=$?"; echo x | ${c.nc} -w 2 ${own} ${A.port}; echo "other=$?"`, [`${own}:${C.port}`]),
      );
      expect(r.status).toBeNull();
      expect(r.stdout.toString()).toContain('got 4\nc=0\n');
      expect(r.stdout.toString()).toMatch(/other=[1-9]/);
      expect(C.connections).toBe(1);
    } finally {
      await C.close();
    }
    // Nothing was added to this host's own namespace.
    const {stdout} = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']);
    expect(stdout).not.toContain(own);
  }, 60_000);

  test('the sandbox cannot re-address its namespace', async () => {
    const c = ready();
    if (!c) return;
    const ip = name === 'process' ? `${BUSYBOX} ip` : 'ip';
    const r = await c.runner.run(spec(`${ip} addr add 10.55.0.1/32 dev lo; echo "add=$?"; ${ip} route add default dev lo; echo "route=$?"`, [`127.0.0.1:${A.port}`]));
    expect(r.status).toBeNull();
    expect(r.stdout.toString()).toMatch(/add=[1-9]\nroute=[1-9]\n/);
  }, 60_000);

  test('a bad rule ends the run with status error naming the rule', async () => {
    const c = ready();
    if (!c) return;
    for (const [rule, why] of [
      ['127.0.0.1', 'expected host:port'],
      ['127.0.0.1:99999', 'the port must be a number from 1 to 65535'],
      ['[::1]:80', 'IPv6 is not supported'],
    ] as const) {
      const r = await c.runner.run(spec('echo ran', [`127.0.0.1:${A.port}`, rule]));
      expect(r.status).toBe('error');
      expect(r.exitCode).toBeNull();
      expect(r.stdout.toString()).toBe('');
      expect(r.detail).toContain(`bad egress rule ${JSON.stringify(rule)}: ${why}`);
    }
    const unresolved = await c.runner.run(spec('echo ran', ['no-such-host.invalid:80']));
    expect(unresolved.status).toBe('error');
    expect(unresolved.detail).toMatch(/egress host "no-such-host.invalid" does not resolve/);
  }, 60_000);

  test('a timed-out egress run tears down its relay and namespace', async () => {
    const c = ready();
    if (!c) return;
    const r = await c.runner.run(spec('echo started; sleep 60', [`127.0.0.1:${A.port}`], {timeoutMs: 1_500}));
    expect(r.status).toBe('timeout');
    expect(r.stdout.toString()).toBe('started\n');
    expect(await ourNamespaces()).toEqual([]);
  }, 60_000);

  test('two egress runs at once keep their own rules', async () => {
    const c = ready();
    if (!c) return;
    const [a0, b0] = [A.connections, B.connections];
    const probe = `echo x | ${c.nc} -w 5 127.0.0.1 ${A.port}; echo "a=$?"; echo x | ${c.nc} -w 5 127.0.0.1 ${B.port}; echo "b=$?"`;
    const [onlyA, onlyB] = await Promise.all([
      c.runner.run(spec(probe, [`127.0.0.1:${A.port}`])),
      c.runner.run(spec(probe, [`127.0.0.1:${B.port}`])),
    ]);
    // status and detail ride along: an empty stdout alone does not say why a run failed.
    const seen = (r: typeof onlyA): unknown => ({stdout: r.stdout.toString(), status: r.status, detail: r.detail});
    expect(seen(onlyA)).toMatchObject({stdout: expect.stringMatching(/^got 2\na=0\nb=[1-9]\n$/)});
    expect(seen(onlyB)).toMatchObject({stdout: expect.stringMatching(/^a=[1-9]\ngot 2\nb=0\n$/)});
    expect([A.connections - a0, B.connections - b0]).toEqual([1, 1]);
  }, 60_000);

  test('nothing is left behind: no namespace, no container', async () => {
    const c = ready();
    if (!c) return;
    expect(await ourNamespaces()).toEqual([]);
    if (name === 'docker') {
      const left = await new Dockerode().listContainers({all: true, filters: {label: [`${SANDBOX_LABEL}=1`]}});
      expect(left.filter((c) => c.Image === EGRESS_IMAGE)).toEqual([]);
    }
  });
});
