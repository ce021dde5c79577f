/**
 * Cheap "where does the time go" for Voyager's data path: times each stage of sendOn() and
 * onData() in isolation, in-process, with the real functions from dist/src (no sockets).
 * Stages mirror voyager.ts: encodeEnvelope -> nextCounter+encodeDataHeader -> seal -> Buffer.concat
 * (send) and decodeFrame -> session.open -> decodeEnvelope -> firewall.admit (receive).
 */
import * as crypto from 'node:crypto';

import {Firewall} from '../src/core/security/firewall.js';
import {CipherState} from '../src/core/security/noise/index.js';
import {TransportSession} from '../src/core/security/session.js';
import {decodeEnvelope, encodeEnvelope} from '../src/core/transport/envelope.js';
import type {Envelope} from '../src/core/transport/envelope.js';
import {decodeFrame, DATA_HEADER_BYTES, encodeDataHeader} from '../src/core/transport/frame.js';

export interface StageTiming {
  stage: string;
  side: 'send' | 'recv' | 'ref';
  usPerOp: number;
}

const ROUNDS = 3;

/**
 * Calls fn(i) with a running index: 0..w-1 warm-up (JIT), then ROUNDS timed rounds of `iterations`;
 * returns the fastest round (µs/op), which filters GC pauses and neighbours on a noisy machine.
 */
function time(iterations: number, fn: (i: number) => void): number {
  const w = Math.min(2000, iterations);
  for (let i = 0; i < w; i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const from = w + r * iterations;
    const t0 = process.hrtime.bigint();
    for (let i = from; i < from + iterations; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / iterations);
  }
  return best;
}

/** Per-message cost of each stage at `size` bytes of payload, in µs. */
export function stageTimings(size: number, iterations: number): StageTiming[] {
  const k1 = crypto.randomBytes(32);
  const k2 = crypto.randomBytes(32);
  const now = Date.now();
  // Sessions use explicit counters; each stage gets its own session so the replay window stays happy.
  const sender = new TransportSession(new CipherState(k1), new CipherState(k2), now);
  const peerId = 'ab'.repeat(16);
  const env: Envelope = {v: 1, type: 'bench.sink', id: 'a1b2c3d4' + '1k2l', from: peerId, to: 'cd'.repeat(16), ts: now, body: crypto.randomBytes(size)};
  const sid = crypto.randomBytes(8);
  const firewall = new Firewall({clock: Date.now, sink: {audit: () => {}}}, {knownType: () => true, ratePerSec: 1e9, burst: 1e9});

  const plaintext = encodeEnvelope(env);
  const out: StageTiming[] = [];
  const add = (stage: string, side: StageTiming['side'], us: number): void => void out.push({stage, side, usPerOp: us});

  add('encodeEnvelope (msgpack)', 'send', time(iterations, () => encodeEnvelope(env)));
  add('nextCounter + encodeDataHeader', 'send', time(iterations, () => encodeDataHeader(sid, sender.nextCounter())));
  const header = encodeDataHeader(sid, 1);
  add('session.seal (AES-256-GCM)', 'send', time(iterations, (i) => sender.seal(i, header, plaintext)));
  const ct = sender.seal(1, header, plaintext);
  add('Buffer.concat(header, ct)', 'send', time(iterations, () => Buffer.concat([header, ct], header.length + ct.length)));

  // Pre-build distinct frames (counters 0..n-1) so open() sees fresh counters, as on the wire.
  // Bounded to ~8 MiB of frames per round: a bigger working set measures the GC, not the cipher.
  const n = Math.max(64, Math.min(iterations, 8192, Math.floor((8 << 20) / size)));
  const frameSender = new TransportSession(new CipherState(k1), new CipherState(k2), now);
  const frames: Buffer[] = [];
  for (let i = 0; i < Math.min(2000, n) + ROUNDS * n; i++) {
    const c = frameSender.nextCounter();
    const h = encodeDataHeader(sid, c);
    frames.push(Buffer.concat([h, frameSender.seal(c, h, plaintext)]));
  }
  add('decodeFrame', 'recv', time(n, (i) => decodeFrame(frames[i]!, 1 << 20)));
  const receiver = new TransportSession(new CipherState(k2), new CipherState(k1), now);
  add('session.open (replay window + AES-256-GCM)', 'recv', time(n, (i) => {
    const f = frames[i]!;
    const r = receiver.open(i, f.subarray(0, DATA_HEADER_BYTES), f.subarray(DATA_HEADER_BYTES), now);
    if (!r.ok) throw new Error(`open failed: ${r.reason}`);
  }));
  add('decodeEnvelope (msgpack + validate)', 'recv', time(iterations, () => decodeEnvelope(plaintext)));
  const decoded = decodeEnvelope(plaintext)!;
  add('firewall.admit', 'recv', time(iterations, () => firewall.admit({id: peerId, role: 'node'}, decoded)));

  // References: what the AEAD alone costs, split into cipher construction and the bulk work.
  const iv = Buffer.alloc(12);
  add('ref: createCipheriv only', 'ref', time(iterations, () => crypto.createCipheriv('aes-256-gcm', k1, iv, {authTagLength: 16})));
  add('ref: createCipheriv+setAAD+update+final+tag', 'ref', time(iterations, () => {
    const c = crypto.createCipheriv('aes-256-gcm', k1, iv, {authTagLength: 16});
    c.setAAD(header);
    c.update(plaintext);
    c.final();
    c.getAuthTag();
  }));
  add('ref: Buffer copy of payload', 'ref', time(iterations, () => Buffer.from(plaintext)));
  return out;
}
