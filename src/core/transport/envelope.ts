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

/** Binaries at least this large are not copied into the msgpack buffer (encodeEnvelopePieces). */
export const SPLIT_BINARY_BYTES = 64 * 1024;
const EMPTY_BIN = Buffer.alloc(0);

/** An envelope's msgpack encoding as pieces to be sent back to back, and their total length. */
export interface EncodedEnvelope {
  pieces: Buffer[];
  length: number;
}

/**
 * The msgpack encoding of `env`, as pieces whose concatenation equals encodeEnvelope(env). When the
 * body is a plain object whose last value is a large binary (a snapshot chunk), that binary's bytes
 * are the last piece, by reference, not copied: it ends the encoding (body is the envelope's last
 * field), so the rest is encoded with an empty binary in its place and that binary's 2-byte header
 * swapped for a 32-bit one. The receiver decodes the joined plaintext as usual. The caller must not
 * change the binary until the transport has sealed it (the microtask after the send).
 */
export function encodeEnvelopePieces(env: Envelope): EncodedEnvelope {
  const body = env.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    const keys = Object.keys(body);
    const last = keys[keys.length - 1];
    const big = last === undefined ? undefined : (body as Record<string, unknown>)[last];
    if (big instanceof Uint8Array && big.length >= SPLIT_BINARY_BYTES) {
      const head = packr.pack({...env, body: {...body, [last!]: EMPTY_BIN}});
      // msgpack bin8 of length 0 is c4 00; anything else means the layout is not the one assumed.
      if (head.length >= 2 && head[head.length - 2] === 0xc4 && head[head.length - 1] === 0) {
        const bin32 = Buffer.allocUnsafe(5);
        bin32[0] = 0xc6;
        bin32.writeUInt32BE(big.length, 1);
        const data = Buffer.from(big.buffer, big.byteOffset, big.byteLength);
        return {pieces: [head.subarray(0, head.length - 2), bin32, data], length: head.length - 2 + 5 + data.length};
      }
    }
  }
  const whole = packr.pack(env);
  return {pieces: [whole], length: whole.length};
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

/**
 * A DATA frame's plaintext is a batch: one or more encoded envelopes, each prefixed by its length
 * (u32 big-endian). Batching lets the sender coalesce envelopes queued in the same tick into one
 * AEAD operation, whose fixed cost dominates small messages.
 */
export const BATCH_MAX_ENVELOPES = 65_536;

export function encodeBatch(parts: readonly Buffer[]): Buffer {
  // One definition of the layout: the batch the sender encrypts in pieces, joined.
  return Buffer.concat(batchPieces(parts.map((p) => ({pieces: [p], length: p.length}))));
}

/**
 * The same batch as pieces (each envelope preceded by its 4-byte length), for an AEAD that takes its
 * plaintext in pieces: large envelopes are then encrypted where they lie instead of copied into a batch first.
 */
export function batchPieces(parts: readonly EncodedEnvelope[]): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(p.length);
    out.push(len, ...p.pieces);
  }
  return out;
}

/** Splits a batch (views into `buf`, no copies); undefined when any length is wrong. */
export function decodeBatch(buf: Buffer): Buffer[] | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 4 || parts.length >= BATCH_MAX_ENVELOPES) return undefined;
    const len = buf.readUInt32BE(at);
    if (len === 0 || len > buf.length - at - 4) return undefined;
    parts.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return parts.length > 0 ? parts : undefined;
}
