import type {PeerRole} from '../security/firewall.js';
import {PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature} from '../security/identity.js';
import type {Identity} from '../security/identity.js';
import {packPlain, unpackPlain} from './envelope.js';

/**
 * The handshake payload each side sends inside its encrypted Noise message: who it is (Ed25519 identity
 * key), a signature by that key over its Noise static key (binding the session to the identity), and
 * what it offers (name, listen address, labels, capacity).
 */
export interface Capacity {
  cores: number;
  memoryBytes: number;
  gpus: number;
}

export interface Hello {
  key: Buffer;
  sig: Buffer;
  role: PeerRole;
  name: string;
  /** Where this peer accepts links, "tcp://host:port", or "" (a client accepts none). */
  listen: string;
  labels: Record<string, string>;
  cap: Capacity;
}

export const HELLO_LIMITS = {nameChars: 64, listenChars: 128, labels: 32, labelKeyChars: 63, labelValueChars: 255} as const;

const SIG_CONTEXT = Buffer.from('swarm/noise-static/v1\0');

export function signStatic(identity: Identity, noiseStatic: Buffer): Buffer {
  return identity.sign(Buffer.concat([SIG_CONTEXT, noiseStatic]));
}

export function verifyStatic(hello: Hello, noiseStatic: Buffer): boolean {
  return verifySignature(hello.key, Buffer.concat([SIG_CONTEXT, noiseStatic]), hello.sig);
}

export function encodeHello(h: Hello): Buffer {
  return packPlain({v: 1, key: h.key, sig: h.sig, role: h.role, name: h.name, listen: h.listen, labels: h.labels, cap: h.cap});
}

const LISTEN_RE = /^tcp:\/\/[A-Za-z0-9.:[\]_-]+:\d{1,5}$/;

function isCount(x: unknown, max: number): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 && x <= max;
}

/** Decodes and validates every field; undefined for anything else. */
export function decodeHello(buf: Buffer): Hello | undefined {
  let raw: unknown;
  try {
    raw = unpackPlain(buf);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  if (o.v !== 1) return undefined;
  const {key, sig, role, name, listen, labels, cap} = o;
  if (!(key instanceof Uint8Array) || key.length !== PUBLIC_KEY_BYTES) return undefined;
  if (!(sig instanceof Uint8Array) || sig.length !== SIGNATURE_BYTES) return undefined;
  if (role !== 'node' && role !== 'client') return undefined;
  if (typeof name !== 'string' || name.length > HELLO_LIMITS.nameChars) return undefined;
  if (typeof listen !== 'string' || listen.length > HELLO_LIMITS.listenChars || (listen !== '' && !LISTEN_RE.test(listen))) return undefined;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return undefined;
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > HELLO_LIMITS.labels) return undefined;
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > HELLO_LIMITS.labelKeyChars || typeof v !== 'string' || v.length > HELLO_LIMITS.labelValueChars) return undefined;
  }
  if (cap === null || typeof cap !== 'object') return undefined;
  const c = cap as Record<string, unknown>;
  if (!isCount(c.cores, 1 << 16) || !isCount(c.memoryBytes, Number.MAX_SAFE_INTEGER) || !isCount(c.gpus, 1 << 10)) return undefined;
  return {
    key: Buffer.from(key),
    sig: Buffer.from(sig),
    role,
    name,
    listen,
    labels: labels as Record<string, string>,
    cap: {cores: c.cores, memoryBytes: c.memoryBytes, gpus: c.gpus},
  };
}
