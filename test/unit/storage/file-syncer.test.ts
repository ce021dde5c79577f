import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {FileSyncer} from '../../../src/core/storage/index.js';

describe('FileSyncer', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-syncer-'))));
  afterEach(() => fs.rmSync(dir, {recursive: true, force: true}));

  const openNew = (i: number): number => {
    const fd = fs.openSync(path.join(dir, String(i)), 'w');
    fs.writeSync(fd, Buffer.alloc(1000, i));
    return fd;
  };

  test('fsyncs and closes every file, never more than its window in flight', async () => {
    const s = new FileSyncer(3);
    const fds: number[] = [];
    for (let i = 0; i < 20; i++) {
      await s.room();
      const fd = openNew(i);
      fds.push(fd);
      s.add(fd);
      expect((s as unknown as {inflight: Set<unknown>}).inflight.size).toBeLessThanOrEqual(3);
    }
    await s.drain();
    // Every descriptor closed: its number is gone or reused for something other than our files.
    const target = (fd: number): string => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    };
    for (const fd of fds) expect(target(fd).startsWith(dir)).toBe(false);
  });

  test('a failed fsync surfaces from room() or drain(), not as an unhandled rejection', async () => {
    const s = new FileSyncer(2);
    const fd = openNew(1);
    fs.closeSync(fd); // fsync of a closed descriptor fails with EBADF
    s.add(fd);
    await expect(s.drain()).rejects.toThrow(/EBADF/);
    await expect(s.room()).rejects.toThrow(/EBADF/);
    await expect(s.settle()).resolves.toBeUndefined();
  });
});
