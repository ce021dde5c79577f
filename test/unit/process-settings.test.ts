import * as fs from 'node:fs';
import {fileURLToPath} from 'node:url';

import {NODE_GLIBC_TUNABLES, NODE_V8_FLAGS, nodeProcessEnv} from '../../src/core/node/process-settings.js';

describe('node process settings', () => {
  test("bin/run.js's #! line sets exactly the settings the harnesses and --detach use", () => {
    const bin = fs.readFileSync(fileURLToPath(new URL('../../bin/run.js', import.meta.url)), 'utf8');
    expect(bin.split('\n')[0]).toBe(`#!/usr/bin/env -S GLIBC_TUNABLES=${NODE_GLIBC_TUNABLES} node ${NODE_V8_FLAGS.join(' ')}`);
    expect(Buffer.byteLength(bin.split('\n')[0]!)).toBeLessThan(256); // Linux reads at most 256 bytes of a #! line
  });

  test('added once, after an operator’s own tunables', () => {
    expect(nodeProcessEnv({}).GLIBC_TUNABLES).toBe(NODE_GLIBC_TUNABLES);
    const own = nodeProcessEnv({GLIBC_TUNABLES: 'glibc.malloc.arena_max=2'});
    expect(own.GLIBC_TUNABLES).toBe(`glibc.malloc.arena_max=2:${NODE_GLIBC_TUNABLES}`);
    expect(nodeProcessEnv(own).GLIBC_TUNABLES).toBe(own.GLIBC_TUNABLES);
  });

  test("this machine's glibc knows both names and takes the values", async () => {
    const {execFileSync} = await import('node:child_process');
    const ldso = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'].find((p) => fs.existsSync(p));
    if (!ldso) {
      process.stdout.write('skipped: no glibc dynamic loader found to list tunables\n');
      return;
    }
    const out = execFileSync(ldso, ['--list-tunables'], {env: nodeProcessEnv({})}).toString();
    expect(out).toMatch(/glibc\.malloc\.mmap_threshold: 0x400000\b/);
    expect(out).toMatch(/glibc\.malloc\.trim_threshold: 0x4000000\b/);
  });

  test('this node takes the V8 flags (an unknown flag would stop every node at start)', async () => {
    const {execFileSync} = await import('node:child_process');
    const out = execFileSync(process.execPath, [...NODE_V8_FLAGS, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))'], {env: nodeProcessEnv({PATH: process.env.PATH})});
    expect((JSON.parse(out.toString()) as string[]).slice(0, NODE_V8_FLAGS.length)).toEqual(NODE_V8_FLAGS);
  });
});
