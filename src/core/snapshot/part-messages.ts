import {UsageError} from '../errors.js';
import {MAX_PART_INDEX} from './part-store.js';

/**
 * The messages nodes exchange about the snapshot parts they hold, and the checks every body passes
 * before a holder acts on it. A peer is authenticated but may still be buggy or lying: a body of the
 * wrong shape is refused with a UsageError (the requester sees it as the reply), never half-applied.
 */
export const PART_MSG = {
  put: 'snapshot.part.put',
  hash: 'snapshot.part.hash',
  read: 'snapshot.part.read',
  replicate: 'snapshot.part.replicate',
  rm: 'snapshot.part.rm',
} as const;
export type PartMessage = (typeof PART_MSG)[keyof typeof PART_MSG];

/** One part of one snapshot. */
export interface PartRef {
  snap: string;
  part: number;
}
/** A chunk of a part, in order; the chunk that completes it may carry the hash it must have. */
export interface PutBody extends PartRef {
  offset: number;
  size: number;
  data: Buffer;
  sha256?: string;
}
export interface ReadBody extends PartRef {
  offset: number;
}
/** Forward a held part to `to` (repair). */
export interface ReplicateBody extends PartRef {
  to: string;
  size: number;
  sha256: string;
}
/** A whole snapshot's parts, or one of them. */
export interface RmBody {
  snap: string;
  part?: number;
}

/** Largest part a holder accepts (a part is a slice of one node's state). */
const MAX_PART_BYTES = 2 ** 40;
const SHA256_RE = /^[0-9a-f]{64}$/;

function record(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError('snapshot message: the body is not an object');
  return body as Record<string, unknown>;
}

function count(b: Record<string, unknown>, field: string, max: number): number {
  const v = b[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new UsageError(`snapshot message: ${field} is not a whole number from 0 to ${max}`);
  return v;
}

function text(b: Record<string, unknown>, field: string): string {
  const v = b[field];
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new UsageError(`snapshot message: ${field} is not a short string`);
  return v;
}

function sha256Of(b: Record<string, unknown>, field: string): string {
  const v = b[field];
  if (typeof v !== 'string' || !SHA256_RE.test(v)) throw new UsageError(`snapshot message: ${field} is not a sha256 in hex`);
  return v;
}

function ref(b: Record<string, unknown>): PartRef {
  // The snapshot id's own form is checked where it becomes a path (PartStore).
  return {snap: text(b, 'snap'), part: count(b, 'part', MAX_PART_INDEX)};
}

/** msgpack hands out binaries as views into the frame: wrap one as a Buffer, don't copy it. */
export function bytesOf(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function parsePartRef(body: unknown): PartRef {
  return ref(record(body));
}

export function parsePut(body: unknown): PutBody {
  const b = record(body);
  const data = b['data'];
  if (!(data instanceof Uint8Array)) throw new UsageError('snapshot message: data is not binary');
  const put: PutBody = {
    ...ref(b),
    offset: count(b, 'offset', MAX_PART_BYTES),
    size: count(b, 'size', MAX_PART_BYTES),
    data: bytesOf(data),
  };
  if (b['sha256'] !== undefined) put.sha256 = sha256Of(b, 'sha256');
  return put;
}

export function parseRead(body: unknown): ReadBody {
  const b = record(body);
  return {...ref(b), offset: count(b, 'offset', MAX_PART_BYTES)};
}

export function parseReplicate(body: unknown): ReplicateBody {
  const b = record(body);
  return {...ref(b), to: text(b, 'to'), size: count(b, 'size', MAX_PART_BYTES), sha256: sha256Of(b, 'sha256')};
}

export function parseRm(body: unknown): RmBody {
  const b = record(body);
  const rm: RmBody = {snap: text(b, 'snap')};
  if (b['part'] !== undefined) rm.part = count(b, 'part', MAX_PART_INDEX);
  return rm;
}
