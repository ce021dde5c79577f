/**
 * The snapshot payload: planned from real files, read range by range straight from them, and parsed
 * back by the streaming extractor whatever the chunk boundaries.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {UsageError} from '../../../src/core/errors.js';
import {PayloadExtractor} from '../../../src/core/snapshot/payload-extract.js';
import {cutRanges, PAYLOAD_MAGIC, PayloadReader, planPayload, rootHash} from '../../../src/core/snapshot/payload.js';
import type {PayloadSource} from '../../../src/core/snapshot/payload.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-payload-'));
});
afterEach(() => fs.rmSync(dir, {recursive: true, force: true}));

/** Real files of awkward sizes (empty, one byte, around 64 KiB), one read-only, plus inline data. */
function sources(): {srcs: PayloadSource[]; want: Map<string, {data: Buffer; mode: number}>} {
  const want = new Map<string, {data: Buffer; mode: number}>();
  const srcs: PayloadSource[] = [];
  const sizes = [0, 1, 65_535, 65_536, 200_001, 7];
  sizes.forEach((n, i) => {
    const abs = path.join(dir, `f${i}`);
    const data = crypto.randomBytes(n);
    fs.writeFileSync(abs, data);
    const mode = i === 2 ? 0o444 : 0o640;
    fs.chmodSync(abs, mode);
    srcs.push({rel: `include/d${i % 2}/f${i}`, abs});
    want.set(`include/d${i % 2}/f${i}`, {data, mode});
  });
  const kv = Buffer.from(JSON.stringify({a: 1}));
  srcs.unshift({rel: 'state/kv.json', data: kv});
  want.set('state/kv.json', {data: kv, mode: 0o600});
  return {srcs, want};
}

/** The whole stream, read range by range as a create does (one reader per range). */
function readAll(plan: ReturnType<typeof planPayload>, parts: number, chunk: number): Buffer {
  const {ranges} = cutRanges(plan.bytes, parts);
  const out: Buffer[] = [];
  for (const r of ranges) {
    const reader = new PayloadReader(plan);
    for (let off = 0; off < r.size; ) {
      const buf = Buffer.alloc(Math.min(chunk, r.size - off));
      const n = reader.read(r.offset + off, buf);
      expect(n).toBe(buf.length);
      out.push(buf);
      off += n;
    }
    reader.close();
  }
  return Buffer.concat(out);
}

async function extractAll(stream: Buffer, cut: number[]): Promise<{files: Map<string, {data: Buffer; mode: number}>}> {
  const scratch = fs.mkdtempSync(path.join(dir, 'x-'));
  const x = new PayloadExtractor(scratch);
  let at = 0;
  for (const n of cut) {
    x.push(stream.subarray(at, at + n));
    at += n;
  }
  x.push(stream.subarray(at));
  const files = await x.finish();
  return {files: new Map(files.map((f) => [f.rel, {data: fs.readFileSync(f.tmp), mode: fs.statSync(f.tmp).mode & 0o777}]))};
}

describe('snapshot payload', () => {
  test('any cut of ranges and chunks reads the same stream; the extractor gives back every file and mode', async () => {
    const {srcs, want} = sources();
    const plan = planPayload(srcs);
    const whole = readAll(plan, 1, plan.bytes);
    expect(whole.length).toBe(plan.bytes);
    expect(whole.subarray(0, PAYLOAD_MAGIC.length).equals(PAYLOAD_MAGIC)).toBe(true);
    for (const [parts, chunk] of [[8, 1020 * 1024], [3, 4096], [7, 997], [16, 65_536]] as const) {
      expect(readAll(plan, parts, chunk).equals(whole)).toBe(true);
    }
    // Chunk boundaries anywhere: inside the magic, a length, a header, a file, at the end marker.
    for (const cut of [[1, 3, 5, 2, 100], [PAYLOAD_MAGIC.length + 2, 1], Array.from({length: 200}, () => 17), []]) {
      const {files} = await extractAll(whole, cut);
      expect(new Set(files.keys())).toEqual(new Set(want.keys()));
      for (const [rel, w] of want) {
        expect(files.get(rel)!.data.equals(w.data)).toBe(true);
        expect(files.get(rel)!.mode).toBe(w.mode);
      }
    }
    const x = new PayloadExtractor(fs.mkdtempSync(path.join(dir, 'y-')));
    await x.write(whole);
    await expect(x.finish()).resolves.toHaveLength(want.size);
  });

  test('the root hash is over the part hashes in order', () => {
    const a = crypto.createHash('sha256').update('a').digest('hex');
    const b = crypto.createHash('sha256').update('b').digest('hex');
    expect(rootHash([a, b])).toBe(crypto.createHash('sha256').update(Buffer.from(a + b, 'hex')).digest('hex'));
    expect(rootHash([a, b])).not.toBe(rootHash([b, a]));
  });

  test('a file that shrank after planning is refused, not read short', () => {
    const {srcs} = sources();
    const plan = planPayload(srcs);
    fs.truncateSync((srcs[5] as {abs: string}).abs, 10);
    expect(() => readAll(plan, 1, 1 << 20)).toThrow(/shrank while being snapshotted/);
  });

  test('malformed streams are refused with a reason; nothing is written outside the scratch dir', async () => {
    const {srcs} = sources();
    const whole = readAll(planPayload(srcs), 1, 1 << 20);
    const header = (h: unknown): Buffer => {
      const j = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(j.length);
      return Buffer.concat([PAYLOAD_MAGIC, len, j]);
    };
    const bigLen = Buffer.alloc(4);
    bigLen.writeUInt32BE(1 << 20);
    const cases: [string, Buffer, RegExp][] = [
      ['bad magic', Buffer.from('NOTSNAP!rest'), /not a snapshot payload/],
      ['oversized header', Buffer.concat([PAYLOAD_MAGIC, bigLen]), /header too large/],
      ['header not JSON', Buffer.concat([PAYLOAD_MAGIC, Buffer.from([0, 0, 0, 3]), Buffer.from('{x]')]), /malformed/],
      ['negative size', header({p: 'a', m: 0o600, s: -1}), /malformed/],
      ['path escapes', header({p: '../../etc/passwd', m: 0o600, s: 0}), /leaves the target/],
      ['absolute path', header({p: '/etc/passwd', m: 0o600, s: 0}), /leaves the target/],
      ['bytes after the end', Buffer.concat([whole, Buffer.from([1])]), /after its end/],
    ];
    for (const [what, stream, why] of cases) {
      const x = new PayloadExtractor(fs.mkdtempSync(path.join(dir, 'bad-')));
      let err: unknown;
      try {
        x.push(stream);
      } catch (e) {
        err = e;
      }
      await x.abandon();
      if (err === undefined) throw new Error(`${what}: accepted`);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(why);
    }
    const truncated = new PayloadExtractor(fs.mkdtempSync(path.join(dir, 'cut-')));
    truncated.push(whole.subarray(0, whole.length - 3));
    await expect(truncated.finish()).rejects.toThrow(/truncated/);
    await truncated.abandon();
    expect(fs.existsSync('/etc/passwd.tmp')).toBe(false);
  });
});
