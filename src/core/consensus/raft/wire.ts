import type {ConfState, Entry, Message, MessageType, Snapshot} from './types.js';

/**
 * Validation of Raft messages arriving over the transport (msgpack-decoded plain data). The core also
 * checks protocol sense; this checks shapes and bounds so nothing malformed reaches it.
 */
const TYPES = new Set<MessageType>([
  'prevote', 'prevote-resp', 'vote', 'vote-resp', 'append', 'append-resp', 'heartbeat', 'heartbeat-resp',
  'snapshot', 'propose', 'read-index', 'read-index-resp', 'timeout-now',
]);
const MAX_ENTRIES = 10_000;
const MAX_IDS = 1024;

const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isId = (x: unknown): x is string => typeof x === 'string' && x.length <= 64;

function toBytes(x: unknown): Uint8Array | undefined {
  return x instanceof Uint8Array ? x : undefined;
}

function decodeEntry(x: unknown): Entry | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const e = x as Record<string, unknown>;
  const data = toBytes(e.data);
  if (!isIndex(e.term) || !isIndex(e.index) || (e.type !== 'normal' && e.type !== 'conf') || !data) return undefined;
  return {term: e.term, index: e.index, type: e.type, data};
}

function decodeConf(x: unknown): ConfState | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const c = x as Record<string, unknown>;
  if (!Array.isArray(c.voters) || !Array.isArray(c.learners) || c.voters.length > MAX_IDS || c.learners.length > MAX_IDS) return undefined;
  if (!c.voters.every(isId) || !c.learners.every(isId)) return undefined;
  return {voters: c.voters as string[], learners: c.learners as string[]};
}

function decodeSnapshot(x: unknown): Snapshot | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const s = x as Record<string, unknown>;
  const meta = s.meta as Record<string, unknown> | undefined;
  const data = toBytes(s.data);
  if (!meta || !data || !isIndex(meta.index) || !isIndex(meta.term)) return undefined;
  const conf = decodeConf(meta.conf);
  return conf ? {meta: {index: meta.index, term: meta.term, conf}, data} : undefined;
}

export function decodeRaftMessage(x: unknown): Message | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const m = x as Record<string, unknown>;
  if (typeof m.type !== 'string' || !TYPES.has(m.type as MessageType)) return undefined;
  if (!isId(m.from) || !isId(m.to) || !isIndex(m.term) || !isIndex(m.logTerm) || !isIndex(m.index) || !isIndex(m.commit) || !isIndex(m.rejectHint)) return undefined;
  if (typeof m.reject !== 'boolean' || !Array.isArray(m.entries) || m.entries.length > MAX_ENTRIES) return undefined;
  const entries: Entry[] = [];
  for (const raw of m.entries) {
    const e = decodeEntry(raw);
    if (!e) return undefined;
    entries.push(e);
  }
  const out: Message = {type: m.type as MessageType, from: m.from, to: m.to, term: m.term, logTerm: m.logTerm, index: m.index, entries, commit: m.commit, reject: m.reject, rejectHint: m.rejectHint};
  if (m.snapshot !== undefined) {
    const s = decodeSnapshot(m.snapshot);
    if (!s) return undefined;
    out.snapshot = s;
  }
  if (m.context !== undefined) {
    if (typeof m.context !== 'string' || m.context.length > 256) return undefined;
    out.context = m.context;
  }
  return out;
}

/** Plain-data form for msgpack (drops undefined fields). */
export function encodeRaftMessage(m: Message): Record<string, unknown> {
  const o: Record<string, unknown> = {type: m.type, from: m.from, to: m.to, term: m.term, logTerm: m.logTerm, index: m.index, entries: m.entries, commit: m.commit, reject: m.reject, rejectHint: m.rejectHint};
  if (m.snapshot) o.snapshot = m.snapshot;
  if (m.context !== undefined) o.context = m.context;
  return o;
}
