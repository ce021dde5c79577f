import {Packr} from 'msgpackr';
import type {Entry, EntryType, HardState} from '../types.js';
import {crc32} from './crc32.js';

/**
 * One WAL record on disk (little endian):
 *
 *   u32 length of payload | u8 type | u32 header CRC (of the 5 bytes before) | payload | u32 CRC(type ++ payload)
 *
 * The header CRC is there so a damaged length is recognised as damage (and not trusted to find the
 * next record), and so recovery can cheaply probe for "is there a valid record after this bad one?",
 * which is what separates a torn tail (crash mid-write) from corruption in the middle of the log.
 * Payloads are plain msgpack arrays.
 */
export const RecordType = {
  /** First record of every segment: the state the segment starts from. */
  Meta: 1,
  HardState: 2,
  Entry: 3,
  /** applySnapshot: the log is replaced by the snapshot (file snap-<term>-<index>.snap). */
  SnapApply: 4,
  /** createSnapshot: the snapshot file exists and the log is compacted up to it. */
  SnapCreate: 5,
  /** compact: entries up to `index` dropped (no new snapshot). */
  Compact: 6,
} as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

const VALID_TYPES = new Set<number>(Object.values(RecordType));

export const HEADER_BYTES = 9;
export const TRAILER_BYTES = 4;
/** A sanity bound on one record; a larger length field is treated as damage. */
export const MAX_RECORD_PAYLOAD = 1 << 30;

/** Version of the payload layouts, carried in every Meta record. */
export const WAL_VERSION = 1;

// Plain msgpack: no records/extensions, so the bytes stay a stable, self-describing format.
const packr = new Packr({useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false});

export function encodeRecord(type: RecordTypeCode, payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length + TRAILER_BYTES);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt8(type, 4);
  buf.writeUInt32LE(crc32(buf.subarray(0, 5)), 5);
  buf.set(payload, HEADER_BYTES);
  buf.writeUInt32LE(crc32(payload, crc32(buf.subarray(4, 5))), HEADER_BYTES + payload.length);
  return buf;
}

export type ParsedRecord = {ok: true; type: RecordTypeCode; payload: Buffer; offset: number; end: number} | {ok: false; reason: string};

/** Parses the record starting at `off`; never throws. */
export function parseRecordAt(buf: Buffer, off: number): ParsedRecord {
  if (buf.length - off < HEADER_BYTES) return {ok: false, reason: 'file ends inside a record header'};
  const type = buf[off + 4]!;
  if (buf.readUInt32LE(off + 5) !== crc32(buf.subarray(off, off + 5))) return {ok: false, reason: 'record header checksum mismatch'};
  if (!VALID_TYPES.has(type)) return {ok: false, reason: `unknown record type ${type}`};
  const len = buf.readUInt32LE(off);
  if (len > MAX_RECORD_PAYLOAD) return {ok: false, reason: `record length ${len} too large`};
  const end = off + HEADER_BYTES + len + TRAILER_BYTES;
  if (end > buf.length) return {ok: false, reason: 'file ends inside a record'};
  const payload = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
  if (buf.readUInt32LE(end - TRAILER_BYTES) !== crc32(payload, crc32(buf.subarray(off + 4, off + 5)))) {
    return {ok: false, reason: 'record checksum mismatch'};
  }
  return {ok: true, type: type as RecordTypeCode, payload, offset: off, end};
}

export interface ScanResult {
  records: {type: RecordTypeCode; payload: Buffer; offset: number}[];
  /** End of the last good record: where a torn tail is cut. */
  goodEnd: number;
  /** The first record that failed to parse, if any. `more`: a valid record exists somewhere after it. */
  failure?: {offset: number; reason: string; more: boolean};
}

/**
 * Reads records until the first bad one. A bad record with nothing valid after it is what a crash
 * during a write leaves (a torn tail); a bad record with a valid one after it is corruption. The
 * probe for "a valid record after" tries every byte offset (the length of the bad record cannot be
 * trusted); it only runs on the failure path and the header CRC rejects nearly all offsets cheaply.
 */
export function scanRecords(buf: Buffer): ScanResult {
  const records: ScanResult['records'] = [];
  let off = 0;
  while (off < buf.length) {
    const r = parseRecordAt(buf, off);
    if (!r.ok) return {records, goodEnd: off, failure: {offset: off, reason: r.reason, more: hasValidRecordAfter(buf, off + 1)}};
    records.push({type: r.type, payload: r.payload, offset: off});
    off = r.end;
  }
  return {records, goodEnd: off};
}

function hasValidRecordAfter(buf: Buffer, from: number): boolean {
  for (let off = from; off + HEADER_BYTES + TRAILER_BYTES <= buf.length; off++) {
    if (!VALID_TYPES.has(buf[off + 4]!)) continue;
    if (parseRecordAt(buf, off).ok) return true;
  }
  return false;
}

// ---- payloads ---------------------------------------------------------------------------------

/** A log position: an index and the term of the entry there. */
export interface LogRef {
  index: number;
  term: number;
}

export interface MetaPayload {
  /** The snapshot the segment's state builds on (its file must exist). */
  snap: LogRef;
  /** The compaction point: entries after it follow in the segment. dummy.index >= snap.index. */
  dummy: LogRef;
  hardState: HardState;
}

function isUint(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function unpackArray(payload: Uint8Array): unknown[] | undefined {
  try {
    const v: unknown = packr.unpack(payload);
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A standalone copy: decoded Buffers share the (large) segment buffer they were read from. */
export function copyBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}

export function encodeMeta(m: MetaPayload): Uint8Array {
  const hs = m.hardState;
  return packr.pack([WAL_VERSION, m.snap.index, m.snap.term, m.dummy.index, m.dummy.term, hs.term, hs.vote, hs.commit]);
}

export function decodeMeta(p: Uint8Array): MetaPayload | undefined {
  const a = unpackArray(p);
  if (!a || a.length !== 8 || a[0] !== WAL_VERSION) return undefined;
  const [, si, st, di, dt, ht, hv, hc] = a;
  if (!isUint(si) || !isUint(st) || !isUint(di) || !isUint(dt) || !isUint(ht) || typeof hv !== 'string' || !isUint(hc)) return undefined;
  return {snap: {index: si, term: st}, dummy: {index: di, term: dt}, hardState: {term: ht, vote: hv, commit: hc}};
}

export function encodeHardState(hs: HardState): Uint8Array {
  return packr.pack([hs.term, hs.vote, hs.commit]);
}

export function decodeHardState(p: Uint8Array): HardState | undefined {
  const a = unpackArray(p);
  if (!a || a.length !== 3) return undefined;
  const [t, v, c] = a;
  if (!isUint(t) || typeof v !== 'string' || !isUint(c)) return undefined;
  return {term: t, vote: v, commit: c};
}

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf'];

export function encodeEntry(e: Entry): Uint8Array {
  return packr.pack([e.term, e.index, ENTRY_TYPES.indexOf(e.type), e.data]);
}

export function decodeEntry(p: Uint8Array): Entry | undefined {
  const a = unpackArray(p);
  if (!a || a.length !== 4) return undefined;
  const [t, i, ty, d] = a;
  if (!isUint(t) || !isUint(i) || i === 0 || !isUint(ty) || !(d instanceof Uint8Array)) return undefined;
  const type = ENTRY_TYPES[ty];
  if (type === undefined) return undefined;
  return {term: t, index: i, type, data: copyBytes(d)};
}

export function encodeRef(r: LogRef): Uint8Array {
  return packr.pack([r.index, r.term]);
}

export function decodeRef(p: Uint8Array): LogRef | undefined {
  const a = unpackArray(p);
  if (!a || a.length !== 2) return undefined;
  const [i, t] = a;
  if (!isUint(i) || !isUint(t)) return undefined;
  return {index: i, term: t};
}
