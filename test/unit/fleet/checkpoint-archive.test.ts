import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import {pack} from 'msgpackr';

import {packDir, unpackDir} from '../../../src/core/fleet/checkpoint-archive.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-ckpt-'));

describe('checkpoint archive', () => {
  test('a work dir round-trips: files, modes, nested dirs, empty dirs, links kept as links', () => {
    const src = tmp();
    fs.mkdirSync(path.join(src, 'a/b'), {recursive: true});
    fs.mkdirSync(path.join(src, 'empty'));
    fs.writeFileSync(path.join(src, 'a/b/data.bin'), Buffer.from([0, 1, 2, 255]));
    fs.writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\n', {mode: 0o755});
    fs.symlinkSync('/etc/passwd', path.join(src, 'escape'));
    const dst = tmp();
    expect(unpackDir(packDir(src), dst)).toBe(6);
    expect(fs.readFileSync(path.join(dst, 'a/b/data.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(fs.statSync(path.join(dst, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(dst, 'empty')).isDirectory()).toBe(true);
    // The link was archived as a link, never followed (no copy of /etc/passwd travelled).
    expect(fs.lstatSync(path.join(dst, 'escape')).isSymbolicLink()).toBe(true);
    fs.rmSync(src, {recursive: true});
    fs.rmSync(dst, {recursive: true});
  });

  test.each([['../outside'], ['/etc/cron.d/x'], ['a/../../x'], ['./a']])('an entry path %s that leaves the work dir is refused', (p) => {
    const dst = tmp();
    const evil = zlib.gzipSync(pack([{p, t: 'f', m: 0o644, d: Buffer.from('x')}]));
    expect(() => unpackDir(evil, dst)).toThrow(/leaves the work dir|bad entry/);
    expect(fs.readdirSync(dst)).toEqual([]);
    fs.rmSync(dst, {recursive: true});
  });

  test('nothing is written through a link the archive itself made', () => {
    const dst = tmp();
    const outside = tmp();
    const evil = zlib.gzipSync(pack([{p: 'l', t: 'l', l: outside}, {p: 'l/pwned', t: 'f', m: 0o644, d: Buffer.from('x')}]));
    unpackDir(evil, dst);
    expect(fs.readdirSync(outside)).toEqual([]);
    fs.rmSync(dst, {recursive: true});
    fs.rmSync(outside, {recursive: true});
  });

  test('size limits hold both ways; garbage is refused', () => {
    const src = tmp();
    fs.writeFileSync(path.join(src, 'big'), Buffer.alloc(2048));
    expect(() => packDir(src, {bytes: 1024, entries: 10})).toThrow(/too big to checkpoint/);
    expect(() => unpackDir(Buffer.from('not gzip'), src)).toThrow(/corrupt/);
    fs.rmSync(src, {recursive: true});
  });
});
