/**
 * The state both sides of the snapshot benchmark copy: a directory of incompressible bytes in a mix
 * of a few big files, some medium ones and many small ones in nested dirs, and a byte-for-byte
 * comparison of two trees (by sha256 per file).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface StateShape {
  totalBytes: number;
  big: {count: number; bytes: number};
  medium: {count: number; bytes: number};
  small: {count: number; bytes: number; dirs: number};
}

const SMALL_BYTES = 24 * 1024;

/** 9/16 of the bytes in 3 big files, 4/16 in 16 medium ones, 3/16 in 24 KiB files spread over dirs. */
export function stateShape(totalBytes: number): StateShape {
  const smallCount = Math.round((totalBytes * 3) / 16 / SMALL_BYTES);
  return {
    totalBytes,
    big: {count: 3, bytes: (totalBytes * 3) / 16},
    medium: {count: 16, bytes: totalBytes / 64},
    small: {count: smallCount, bytes: SMALL_BYTES, dirs: Math.max(1, Math.ceil(smallCount / 64))},
  };
}

/**
 * Writes the tree under `dir` (fresh). The bytes come from AES-CTR over zeros with a fixed key:
 * incompressible like random data, but the same on every run and fast to make.
 */
export function writeState(dir: string, shape: StateShape): number {
  fs.mkdirSync(dir, {recursive: true});
  const cipher = crypto.createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(1024 * 1024);
  const write = (file: string, bytes: number): void => {
    const fd = fs.openSync(file, 'w', 0o644);
    try {
      for (let left = bytes; left > 0; ) {
        const b = cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
        fs.writeSync(fd, b);
        left -= b.length;
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  let total = 0;
  for (let i = 0; i < shape.big.count; i++, total += shape.big.bytes) write(path.join(dir, `big-${i}.bin`), shape.big.bytes);
  fs.mkdirSync(path.join(dir, 'medium'));
  for (let i = 0; i < shape.medium.count; i++, total += shape.medium.bytes) write(path.join(dir, 'medium', `m-${i}.bin`), shape.medium.bytes);
  for (let i = 0; i < shape.small.count; i++, total += shape.small.bytes) {
    const sub = path.join(dir, 'small', `d${String(i % shape.small.dirs).padStart(3, '0')}`);
    if (i < shape.small.dirs) fs.mkdirSync(sub, {recursive: true});
    write(path.join(sub, `f-${i}.dat`), shape.small.bytes);
  }
  return total;
}

/** rel path -> sha256 of every regular file under `root`; the storage journal dir is skipped. */
export function treeHashes(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, {withFileTypes: true})) {
      if (e.name === '.swarm-txn') continue;
      const abs = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(abs, r);
      else if (e.isFile()) out.set(r, crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex'));
    }
  };
  walk(root, '');
  return out;
}

/** Throws, naming the first differences, unless `got` holds exactly the files of `want` with the same bytes. */
export function assertSameTree(want: Map<string, string>, gotRoot: string, what: string): void {
  const got = treeHashes(gotRoot);
  const bad: string[] = [];
  for (const [rel, h] of want) if (got.get(rel) !== h) bad.push(got.has(rel) ? `${rel} differs` : `${rel} missing`);
  for (const rel of got.keys()) if (!want.has(rel)) bad.push(`${rel} extra`);
  if (bad.length > 0) throw new Error(`${what}: restored tree is NOT byte-identical to the state (${bad.length} problem(s): ${bad.slice(0, 5).join(', ')})`);
}
