import {Packr} from 'msgpackr';

/**
 * The authenticated message every handler sees: `{v, type, id, from, to, ts, body}`, msgpack-encoded
 * inside a DATA frame. The codec checks every field's type and bound before anything uses it.
 */
export interface Envelope<B = unknown> {
  v: 1;
  /** Message type, e.g. "membership.ping"; replies use "reply". */
  type: string;
  /** Request id (unique per sender); a reply carries the id of its request. */
  id: string;
  /** Sender node id; the firewall checks it against the authenticated peer. */
  from: string;
  /** Receiver node id, or "" for "whoever holds this session". */
  to: string;
  /** Sender's wall clock, ms since epoch (informational; never trusted for ordering). */
  ts: number;
  body: B;
}

export const ENVELOPE_LIMITS = {
  typeChars: 64,
  idChars: 64,
  nodeIdChars: 64,
} as const;

const TYPE_RE = /^[a-z][a-z0-9_.-]*$/;
const NODE_ID_RE = /^[0-9a-f]*$/;
const KEYS = new Set(['v', 'type', 'id', 'from', 'to', 'ts', 'body']);

// Plain msgpack (no records/structured clone extensions): what a peer sends must decode to plain data.
const packr = new Packr({useRecords: false, moreTypes: false, mapsAsObjects: true, bundleStrings: false});

export function encodeEnvelope(env: Envelope): Buffer {
  return packr.pack(env);
}

/** Decodes and validates; returns undefined for anything that is not exactly a well-formed envelope. */
export function decodeEnvelope(buf: Buffer): Envelope | undefined {
  let raw: unknown;
  try {
    raw = packr.unpack(buf);
  } catch {
    return undefined; // includes RangeError from absurd nesting depth
  }
  return validateEnvelope(raw);
}

export function validateEnvelope(raw: unknown): Envelope | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) return undefined;
  const {v, type, id, from, to, ts} = o;
  if (v !== 1) return undefined;
  if (typeof type !== 'string' || type.length === 0 || type.length > ENVELOPE_LIMITS.typeChars || !TYPE_RE.test(type)) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > ENVELOPE_LIMITS.idChars) return undefined;
  if (typeof from !== 'string' || from.length === 0 || from.length > ENVELOPE_LIMITS.nodeIdChars || !NODE_ID_RE.test(from)) return undefined;
  if (typeof to !== 'string' || to.length > ENVELOPE_LIMITS.nodeIdChars || !NODE_ID_RE.test(to)) return undefined;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) return undefined;
  if (!('body' in o)) return undefined;
  return {v: 1, type, id, from, to, ts, body: o.body};
}

/** Shared by every module that encodes plain data (handshake payloads, control bodies). */
export function packPlain(value: unknown): Buffer {
  return packr.pack(value);
}
export function unpackPlain(buf: Buffer): unknown {
  return packr.unpack(buf);
}
