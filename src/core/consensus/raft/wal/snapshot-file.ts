import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {Packr} from 'msgpackr';
import type {Snapshot} from '../types.js';
import {crc32} from './crc32.js';
import {errCode, writeFileAtomic} from './fs-util.js';
import {copyBytes} from './wal-record.js';

/**
 * Snapshot files: `snap-<term>-<index>.snap` (16 hex digits each, so names sort by term then index).
 * Layout: "RSNP" | u8 version | u32 payload length | msgpack [index, term, voters, learners, data] |
 * u32 CRC-32 of everything before it. Written atomically (tmp + fsync + rename + dir fsync).
 */
const MAGIC = Buffer.from('RSNP', 'ascii');
const VERSION = 1;
const HEAD = 9;

const packr = new Packr({useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false});

const NAME_RE = /^snap-([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

const hex16 = (n: number): string => n.toString(16).padStart(16, '0');

export function snapFileName(term: number, index: number): string {
  return `snap-${hex16(term)}-${hex16(index)}.snap`;
}

export function parseSnapFileName(name: string): {term: number; index: number} | undefined {
  const m = NAME_RE.exec(name);
  return m ? {term: parseInt(m[1]!, 16), index: parseInt(m[2]!, 16)} : undefined;
}

export function encodeSnapshotFile(snap: Snapshot): Buffer {
  const {index, term, conf} = snap.meta;
  const payload = packr.pack([index, term, conf.voters, conf.learners, snap.data]);
  const buf = Buffer.allocUnsafe(HEAD + payload.length + 4);
  MAGIC.copy(buf, 0);
  buf.writeUInt8(VERSION, 4);
  buf.writeUInt32LE(payload.length, 5);
  buf.set(payload, HEAD);
  buf.writeUInt32LE(crc32(buf.subarray(0, HEAD + payload.length)), HEAD + payload.length);
  return buf;
}

export function writeSnapshotFile(dir: string, snap: Snapshot): string {
  const path = join(dir, snapFileName(snap.meta.term, snap.meta.index));
  writeFileAtomic(path, [encodeSnapshotFile(snap)]);
  return path;
}

export type SnapshotRead = {ok: true; snap: Snapshot} | {ok: false; missing: boolean; reason: string};

const isUint = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');

/** Reads and verifies a snapshot file; `expect` is the (term, index) the caller's name/WAL claims. */
export function readSnapshotFile(path: string, expect: {term: number; index: number}): SnapshotRead {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return {ok: false, missing: true, reason: 'snapshot file is missing'};
    throw e;
  }
  const bad = (reason: string): SnapshotRead => ({ok: false, missing: false, reason});
  if (buf.length < HEAD + 4 || !buf.subarray(0, 4).equals(MAGIC)) return bad('not a snapshot file (bad magic or too short)');
  if (buf[4] !== VERSION) return bad(`unsupported snapshot version ${buf[4]}`);
  const len = buf.readUInt32LE(5);
  if (buf.length !== HEAD + len + 4) return bad(`snapshot file length ${buf.length} does not match its header`);
  if (buf.readUInt32LE(HEAD + len) !== crc32(buf.subarray(0, HEAD + len))) return bad('snapshot checksum mismatch');
  let v: unknown;
  try {
    v = packr.unpack(buf.subarray(HEAD, HEAD + len));
  } catch {
    return bad('snapshot payload does not decode');
  }
  if (!Array.isArray(v) || v.length !== 5) return bad('snapshot payload malformed');
  const [index, term, voters, learners, data] = v as unknown[];
  if (!isUint(index) || !isUint(term) || !isStrings(voters) || !isStrings(learners) || !(data instanceof Uint8Array)) {
    return bad('snapshot payload malformed');
  }
  if (index !== expect.index || term !== expect.term) return bad(`snapshot holds ${term}/${index}, expected ${expect.term}/${expect.index}`);
  return {ok: true, snap: {meta: {index, term, conf: {voters, learners}}, data: copyBytes(data)}};
}
