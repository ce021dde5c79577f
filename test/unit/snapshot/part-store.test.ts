/**
 * A holder's part store on real files: parts land chunk by chunk, become visible only complete and
 * hashed, refuse what does not fit, and forget parts whose sender vanished.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {ConflictError, NotFoundError, UsageError} from '../../../src/core/errors.js';
import {parsePut, parseReplicate, parseRm} from '../../../src/core/snapshot/part-messages.js';
import {ABANDONED_AFTER_MS, PartStore} from '../../../src/core/snapshot/part-store.js';

const SNAP = '0123456789abcdef';
let root: string;
let now: number;
let store: PartStore;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-parts-'));
  now = 1_000_000;
  store = new PartStore(root, () => now);
});
afterEach(() => fs.rmSync(root, {recursive: true, force: true}));

const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

async function putAll(part: number, bytes: Buffer, chunk: number, expected?: string): Promise<{complete: boolean; sha256?: string}> {
  let last: {complete: boolean; sha256?: string} = {complete: false};
  for (let off = 0; off < bytes.length; off += chunk) {
    last = await store.put(SNAP, part, off, bytes.subarray(off, off + chunk), bytes.length, off + chunk >= bytes.length ? expected : undefined);
  }
  return last;
}

test('a part lands chunk by chunk and is served only once complete, with the hash of what landed', async () => {
  const bytes = crypto.randomBytes(300_000);
  expect(await store.put(SNAP, 0, 0, bytes.subarray(0, 100_000), bytes.length)).toEqual({complete: false});
  expect(store.has(SNAP, 0)).toBe(false);
  expect(() => store.read(SNAP, 0, 0, 10)).toThrow(NotFoundError);
  await store.put(SNAP, 0, 100_000, bytes.subarray(100_000, 200_000), bytes.length);
  expect(await store.put(SNAP, 0, 200_000, bytes.subarray(200_000), bytes.length)).toEqual({complete: true, sha256: sha(bytes)});
  expect(store.has(SNAP, 0)).toBe(true);
  expect(store.hash(SNAP, 0)).toEqual({sha256: sha(bytes), size: bytes.length});
  expect(store.read(SNAP, 0, 250_000, 100_000)).toEqual(bytes.subarray(250_000));
  expect(store.receiving).toBe(0);
});

test('the last chunk carrying the wrong hash refuses the part: nothing is published', async () => {
  const bytes = crypto.randomBytes(50_000);
  await expect(putAll(1, bytes, 20_000, sha(Buffer.from('something else')))).rejects.toThrow(ConflictError);
  expect(store.has(SNAP, 1)).toBe(false);
  expect(fs.existsSync(path.join(root, SNAP, '1.part.tmp'))).toBe(false);
  expect(await putAll(1, bytes, 20_000, sha(bytes))).toEqual({complete: true, sha256: sha(bytes)});
});

test('chunks out of order, without a start, or past the announced size are refused', async () => {
  await expect(store.put(SNAP, 2, 10, Buffer.alloc(10), 100)).rejects.toThrow(/without a start/);
  await store.put(SNAP, 2, 0, Buffer.alloc(10), 100);
  await expect(store.put(SNAP, 2, 20, Buffer.alloc(10), 100)).rejects.toThrow(/expected offset 10, got 20/);
  await expect(store.put(SNAP, 2, 10, Buffer.alloc(200), 100)).rejects.toThrow(UsageError);
  // the overflow dropped the part: it must start again from 0
  await expect(store.put(SNAP, 2, 10, Buffer.alloc(10), 100)).rejects.toThrow(/without a start/);
  expect(store.receiving).toBe(0);
});

test('a chunk at offset 0 restarts a part; references that are not a snapshot id or part number are refused', async () => {
  await store.put(SNAP, 3, 0, Buffer.from('old-'), 8);
  await store.put(SNAP, 3, 0, Buffer.from('new-'), 8);
  await store.put(SNAP, 3, 4, Buffer.from('part'), 8);
  expect(store.read(SNAP, 3, 0, 8).toString()).toBe('new-part');
  for (const snap of ['../etc', 'ABCDEF0123456789', '']) await expect(store.put(snap, 0, 0, Buffer.alloc(1), 1)).rejects.toThrow(UsageError);
  await expect(store.put(SNAP, -1, 0, Buffer.alloc(1), 1)).rejects.toThrow(UsageError);
  await expect(store.put(SNAP, 1.5, 0, Buffer.alloc(1), 1)).rejects.toThrow(UsageError);
});

test('a part whose sender went silent is closed and removed when another part starts, not before', async () => {
  await store.put(SNAP, 4, 0, Buffer.alloc(1000), 5000);
  const tmp = path.join(root, SNAP, '4.part.tmp');
  expect(fs.existsSync(tmp)).toBe(true);
  now += ABANDONED_AFTER_MS - 1;
  await store.put(SNAP, 5, 0, Buffer.alloc(10), 20); // not yet abandoned
  expect(store.receiving).toBe(2);
  expect(fs.existsSync(tmp)).toBe(true);
  now += 1;
  await store.put(SNAP, 6, 0, Buffer.alloc(10), 20);
  // part 4 is gone; part 5 was touched later and stays
  expect(fs.existsSync(tmp)).toBe(false);
  expect(store.receiving).toBe(2);
  await expect(store.put(SNAP, 4, 1000, Buffer.alloc(10), 5000)).rejects.toThrow(/without a start/);
  expect((await store.put(SNAP, 5, 10, Buffer.alloc(10), 20)).complete).toBe(true);
});

test('removing a snapshot forgets its parts in flight and its files', async () => {
  await store.put(SNAP, 7, 0, Buffer.alloc(10), 10);
  await store.put(SNAP, 8, 0, Buffer.alloc(10), 20);
  store.removeSnapshot(SNAP);
  expect(store.receiving).toBe(0);
  expect(fs.existsSync(path.join(root, SNAP))).toBe(false);
});

describe('message bodies from peers', () => {
  const good = {snap: SNAP, part: 2, offset: 0, size: 10, data: new Uint8Array(10)};

  test('a well-formed put is accepted; its data is wrapped, not copied', () => {
    const data = new Uint8Array(10);
    const put = parsePut({...good, data, sha256: 'a'.repeat(64)});
    expect(put).toMatchObject({snap: SNAP, part: 2, offset: 0, size: 10, sha256: 'a'.repeat(64)});
    data[0] = 7;
    expect(put.data[0]).toBe(7);
  });

  test.each([
    ['not an object', 'hello'],
    ['an array', [1, 2]],
    ['null', null],
    ['no data', {...good, data: undefined}],
    ['data as a string', {...good, data: 'abc'}],
    ['a negative offset', {...good, offset: -1}],
    ['a fractional size', {...good, size: 1.5}],
    ['a size past any part', {...good, size: 2 ** 41}],
    ['a part number as a string', {...good, part: '2'}],
    ['a bad sha256', {...good, sha256: 'xyz'}],
    ['an empty snapshot id', {...good, snap: ''}],
  ])('a put with %s is refused as a usage error', (_why, body) => {
    expect(() => parsePut(body)).toThrow(UsageError);
  });

  test('replicate needs a target and a hash; rm takes a whole snapshot or one part', () => {
    expect(() => parseReplicate({snap: SNAP, part: 0, size: 1})).toThrow(UsageError);
    expect(parseReplicate({snap: SNAP, part: 0, size: 1, to: 'n2', sha256: 'b'.repeat(64)})).toEqual({snap: SNAP, part: 0, size: 1, to: 'n2', sha256: 'b'.repeat(64)});
    expect(parseRm({snap: SNAP})).toEqual({snap: SNAP});
    expect(parseRm({snap: SNAP, part: 3})).toEqual({snap: SNAP, part: 3});
    expect(() => parseRm({snap: SNAP, part: -3})).toThrow(UsageError);
  });
});
