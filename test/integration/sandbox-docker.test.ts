/**
 * The docker sandbox against a real engine, with a busybox image imported locally (no registry).
 * Without docker: fails under CI, warns and passes elsewhere.
 * The runner runs as nobody (65534), so each test's work dir is chmod 0777 on the host.
 */
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import Dockerode from 'dockerode';

import {DockerRunner, SANDBOX_LABEL} from '../../src/core/sandbox/docker-runner.js';
import type {SandboxSpec} from '../../src/core/sandbox/types.js';
import {dockerAvailable, ensureBusyboxImage} from '../helpers/docker.js';

const availability = await dockerAvailable();

if (!availability.ok) {
  test('docker sandbox needs a docker engine', () => {
    if (process.env.CI) throw new Error(`docker is unavailable under CI: ${availability.reason}`);
    console.warn(`docker sandbox tests not run: ${availability.reason}`);
  });
} else {
  describe('DockerRunner', () => {
    const docker = new Dockerode();
    const runner = new DockerRunner({});
    let image = '';
    const dirs: string[] = [];

    const workDir = (): string => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-sbx-'));
      fs.chmodSync(d, 0o777); // the sandbox user (nobody) must be able to write here
      dirs.push(d);
      return d;
    };
    const spec = (command: string[], over: Partial<SandboxSpec> = {}): SandboxSpec => ({
      command,
      image,
      workDir: over.workDir ?? workDir(),
      env: {},
      limits: {cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pids: 64},
      timeoutMs: 10_000,
      maxOutputBytes: 1024 * 1024,
      allowEgress: [],
      ...over,
    });
    const sh = (script: string, over: Partial<SandboxSpec> = {}): SandboxSpec => spec(['sh', '-c', script], over);

    beforeAll(async () => {
      image = await ensureBusyboxImage(docker);
    }, 30_000);

    afterAll(async () => {
      for (const d of dirs) fs.rmSync(d, {recursive: true, force: true});
    });

    test('output streams while the container runs', async () => {
      const seen: {stream: string; text: string; at: number}[] = [];
      const r = await runner.run(sh('echo first; sleep 0.6; echo second >&2'), {onOutput: (stream, chunk) => seen.push({stream, text: chunk.toString(), at: Date.now()})});
      expect(seen.map((x) => [x.stream, x.text])).toEqual([['stdout', 'first\n'], ['stderr', 'second\n']]);
      expect(Date.now() - seen[0]!.at).toBeGreaterThan(300);
      expect(r).toMatchObject({status: null, exitCode: 0});
    }, 30_000);

    test('is available', async () => {
      expect(await runner.available()).toEqual({ok: true});
      expect(runner.kind).toBe('docker');
    });

    test('separates stdout and stderr and passes env', async () => {
      const r = await runner.run(sh('echo "out $GREETING"; echo err >&2', {env: {GREETING: 'hi'}}));
      expect(r.status).toBeNull();
      expect(r.exitCode).toBe(0);
      expect(r.stdout.toString()).toBe('out hi\n');
      expect(r.stderr.toString()).toBe('err\n');
      expect(r.stdoutTruncated || r.stderrTruncated).toBe(false);
    });

    test('propagates the exit code', async () => {
      const r = await runner.run(sh('exit 7'));
      expect(r).toMatchObject({status: null, exitCode: 7});
    });

    test('writes in /work persist on the host; runs as nobody; /tmp is writable', async () => {
      const dir = workDir();
      const r = await runner.run(sh('echo kept > /work/out.txt && echo x > /tmp/t && pwd && id -u', {workDir: dir}));
      expect(r).toMatchObject({status: null, exitCode: 0});
      expect(r.stdout.toString()).toBe('/work\n65534\n');
      expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('kept\n');
    });

    test('the root filesystem is read-only', async () => {
      for (const target of ['/etc/x', '/bin/x', '/x']) {
        const r = await runner.run(sh(`echo no > ${target}`));
        expect(r.status).toBeNull();
        expect(r.exitCode).not.toBe(0);
        expect(r.stderr.toString()).toMatch(/Read-only file system|Permission denied/);
      }
    });

    test('has no network: only lo, and the host is unreachable', async () => {
      let connections = 0;
      const server = net.createServer((s) => {
        connections++;
        s.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
      const port = (server.address() as net.AddressInfo).port;
      const hostAddrs = Object.values(os.networkInterfaces())
        .flat()
        .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4')
        .map((a) => a.address);
      try {
        const tries = hostAddrs.map((a) => `echo x | nc -w 1 ${a} ${port} && echo CONNECTED ${a}`).join('; ');
        const r = await runner.run(sh(`ls /sys/class/net; ${tries}; true`));
        expect(r).toMatchObject({status: null, exitCode: 0});
        const out = r.stdout.toString();
        expect(out.split('\n')[0]).toBe('lo');
        expect(out).not.toContain('CONNECTED');
        expect(connections).toBe(0);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    test('a fork bomb is stopped by the pids limit', async () => {
      const started = Date.now();
      const r = await runner.run(
        sh('b(){ b | b & }; b; i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done; wait', {
          limits: {cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pids: 32},
          timeoutMs: 8_000,
        }),
      );
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(r.exitCode !== 0 || r.status !== null).toBe(true);
      expect(r.stderr.toString()).toContain("can't fork");
      // the engine and the host are fine afterwards
      const after = await runner.run(sh('echo ok'));
      expect(after).toMatchObject({status: null, exitCode: 0});
      expect(after.stdout.toString()).toBe('ok\n');
    }, 30_000);

    test('a memory hog is OOM-killed and reported as oom', async () => {
      const r = await runner.run(
        sh('x=aaaaaaaa; while true; do x="$x$x"; done', {
          limits: {cpus: 1, memoryBytes: 32 * 1024 * 1024, pids: 64},
        }),
      );
      expect(r.status).toBe('oom');
      expect(r.exitCode).toBeNull();
      expect(r.durationMs).toBeLessThan(10_000);
    }, 20_000);

    test('a never-ending command times out', async () => {
      const r = await runner.run(sh('echo started; sleep 60', {timeoutMs: 1_500}));
      expect(r.status).toBe('timeout');
      // It waited for the killed container's exit (not the poll timer that was running at the kill).
      expect(r.detail).toBe('killed after 1500 ms');
      expect(r.exitCode).toBeNull();
      expect(r.stdout.toString()).toBe('started\n');
      expect(r.durationMs).toBeGreaterThanOrEqual(1_400);
      expect(r.durationMs).toBeLessThan(6_000);
    }, 20_000);

    test('an output flood ends with output_limit and bounded output', async () => {
      const r = await runner.run(spec(['yes'], {maxOutputBytes: 64 * 1024}));
      expect(r.status).toBe('output_limit');
      expect(r.stdoutTruncated).toBe(true);
      expect(r.stderrTruncated).toBe(false);
      expect(r.stdout.length).toBe(64 * 1024);
      expect(r.stdout.subarray(0, 4).toString()).toBe('y\ny\n');
      expect(r.durationMs).toBeLessThan(8_000);
    }, 20_000);

    test('an abort signal kills the run', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 700);
      const r = await runner.run(sh('sleep 60'), {signal: ac.signal});
      expect(r.status).toBe('killed');
      expect(r.exitCode).toBeNull();
      expect(r.durationMs).toBeLessThan(6_000);
    }, 20_000);

    test('a bad egress rule is an error result; docker errors are results, not throws', async () => {
      const egress = await runner.run(sh('echo ran', {allowEgress: ['example.org:443', 'example.org']}));
      expect(egress).toMatchObject({status: 'error', detail: 'bad egress rule "example.org": expected host:port'});
      expect(egress.stdout.toString()).toBe('');
      const missing = await runner.run(sh('true', {image: 'swarm-no-such-image:none'}));
      expect(missing.status).toBe('error');
      expect(missing.detail).toMatch(/docker: .*no such image/i);
    });

    test('egress with an image that has no sleep: a clear error, nothing left', async () => {
      // An image with busybox but none of its applet links: the network holder cannot run `sleep`.
      const bare = 'swarm-busybox-bare:test';
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-bare-'));
      try {
        fs.mkdirSync(path.join(dir, 'bin'));
        fs.copyFileSync(['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p))!, path.join(dir, 'bin', 'busybox'));
        fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
        const tar = path.join(os.tmpdir(), `swarm-bare-${process.pid}.tar`);
        execFileSync('tar', ['-C', dir, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
        const progress = await docker.importImage(fs.createReadStream(tar), {repo: 'swarm-busybox-bare', tag: 'test'});
        await new Promise<void>((resolve, reject) => docker.modem.followProgress(progress, (e: Error | null) => (e ? reject(e) : resolve())));
        fs.rmSync(tar, {force: true});
      } finally {
        fs.rmSync(dir, {recursive: true, force: true});
      }
      const r = await runner.run(spec(['/bin/busybox', 'echo', 'ran'], {image: bare, allowEgress: ['127.0.0.1:9']}));
      expect(r.status).toBe('error');
      expect(r.detail).toMatch(/^egress setup failed: cannot start the network holder container \(the image must have `sleep`\): /);
      expect(r.stdout.toString()).toBe('');
    });

    test('no container is left behind', async () => {
      // Only this file's (by image): other files' runs may be going on at the same time.
      const left = await docker.listContainers({all: true, filters: {label: [`${SANDBOX_LABEL}=1`]}});
      expect(left.filter((c) => c.Image === image || c.Image === 'swarm-busybox-bare:test')).toEqual([]);
    });
  });
}
