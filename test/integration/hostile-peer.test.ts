/**
 * A node under attack keeps serving its real peers. The attacker is this test process: a raw zeromq
 * DEALER sending garbage, oversized frames, frames for sessions that don't exist, and (holding the
 * join secret, as a compromised client would) forged, unknown-type, unauthorised and replayed frames;
 * plus a real node process with the wrong join secret.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as zmq from 'zeromq';

import {pskFromJoinSecret} from '../../src/core/security/admission.js';
import {generateIdentity} from '../../src/core/security/identity.js';
import {generateKeyPair, HandshakeState} from '../../src/core/security/noise/index.js';
import {TransportSession} from '../../src/core/security/session.js';
import {decodeBatch, decodeEnvelope, encodeBatch, encodeEnvelope} from '../../src/core/transport/envelope.js';
import type {Envelope} from '../../src/core/transport/envelope.js';
import {decodeFrame, encodeDataHeader, encodeHandshake, FrameKind} from '../../src/core/transport/frame.js';
import {encodeHello, signStatic} from '../../src/core/transport/hello.js';
import {NOISE_PROTOCOL} from '../../src/core/transport/voyager.js';
import {cleanup, control, fleet, freePort, startNode, stateOf, tmpDir, waitFor, waitUp, writeJoinSecret} from '../helpers/cluster.js';
import type {RunningNode} from '../helpers/cluster.js';

const dir = tmpDir('hostile');
const secret = writeJoinSecret(dir);
let a: RunningNode;
let b: RunningNode;
let aPort = 0;
const sockets: zmq.Dealer[] = [];

interface Drops {
  [reason: string]: number;
}
async function drops(): Promise<{drops: Drops; admitted: number}> {
  return (await control(a, 'status', null)).firewall;
}

function dealer(): zmq.Dealer {
  const d = new zmq.Dealer({linger: 0, receiveTimeout: 3000});
  d.connect(`tcp://127.0.0.1:${aPort}`);
  sockets.push(d);
  return d;
}

/** A raw client that completes a real handshake (it holds the join secret) and can then misbehave. */
async function rawSession(sock: zmq.Dealer, role: 'client' | 'node' = 'client') {
  const identity = generateIdentity();
  const s = generateKeyPair();
  const hs = new HandshakeState({protocolName: NOISE_PROTOCOL, initiator: true, prologue: Buffer.from('swarm/voyager/1'), s, psks: [pskFromJoinSecret(fs.readFileSync(secret))]});
  const sid = crypto.randomBytes(8);
  await sock.send(encodeHandshake(FrameKind.HandshakeInit, sid, hs.writeMessage(Buffer.alloc(0))));
  const [resp] = await sock.receive();
  const f = decodeFrame(resp!, 1 << 20);
  if (typeof f === 'string' || f.kind !== FrameKind.HandshakeResponse) throw new Error('no handshake response');
  hs.readMessage(f.noise);
  const hello = encodeHello({key: identity.publicKey, sig: signStatic(identity, s.publicKey), role, name: 'attacker', listen: '', labels: {}, cap: {cores: 0, memoryBytes: 0, gpus: 0}});
  await sock.send(encodeHandshake(FrameKind.HandshakeFinal, sid, hs.writeMessage(hello)));
  const {send, recv} = hs.split();
  const session = new TransportSession(send, recv, Date.now());
  const open = (buf: Buffer): Envelope | undefined => {
    const fr = decodeFrame(buf, 1 << 20);
    if (typeof fr === 'string' || fr.kind !== FrameKind.Data) return undefined;
    const r = session.open(fr.counter, fr.aad, fr.ciphertext, Date.now());
    const parts = r.ok ? decodeBatch(r.plaintext) : undefined;
    return parts ? decodeEnvelope(parts[0]!) : undefined;
  };
  const [confirm] = await sock.receive();
  expect(open(confirm!)?.type).toBe('session.confirm');
  let seq = 0;
  const frameFor = (env: Partial<Envelope>): Buffer => {
    const full: Envelope = {v: 1, type: 'control.status', id: `q${seq++}`, from: identity.id, to: '', ts: Date.now(), body: null, ...env};
    const counter = session.nextCounter();
    const header = encodeDataHeader(sid, counter);
    return session.seal(counter, header, encodeBatch([encodeEnvelope(full)]), header);
  };
  return {identity, frameFor, open};
}

beforeAll(async () => {
  aPort = await freePort();
  const bPort = await freePort();
  a = startNode({name: 'a', dataDir: path.join(dir, 'a'), port: aPort, peers: [bPort], joinSecretFile: secret});
  b = startNode({name: 'b', dataDir: path.join(dir, 'b'), port: bPort, peers: [aPort], joinSecretFile: secret});
  await Promise.all([waitUp(a), waitUp(b)]);
  await waitFor('a and b alive', async () => stateOf(await fleet(a), 'b') === 'alive', 15_000);
}, 30_000);

afterAll(() => {
  for (const s of sockets) s.close();
  cleanup();
  fs.rmSync(dir, {recursive: true, force: true});
});

test('garbage, multipart junk and oversized frames are dropped and counted', async () => {
  const before = await drops();
  const d = dealer();
  for (let i = 0; i < 50; i++) await d.send(crypto.randomBytes(1 + (i % 200)));
  await d.send([Buffer.from('two'), Buffer.from('parts')]);
  await d.send(Buffer.alloc(2 * 1024 * 1024, 7)); // over the 1 MiB frame limit
  await waitFor('malformed and oversized counters', async () => {
    const now = await drops();
    return now.drops.malformed! >= before.drops.malformed! + 51 && now.drops.oversized! >= before.drops.oversized! + 1 && now;
  }, 5000);
});

test('valid-looking frames for sessions that do not exist, and handshakes with the wrong key, are refused', async () => {
  const before = await drops();
  const d = dealer();
  // A well-formed data frame under a session id nobody issued.
  const header = encodeDataHeader(crypto.randomBytes(8), 0);
  await d.send(Buffer.concat([header, crypto.randomBytes(64)]));
  // A full handshake with the wrong PSK (wrong join secret): message 3 fails to decrypt at the node.
  const hs = new HandshakeState({protocolName: NOISE_PROTOCOL, initiator: true, prologue: Buffer.from('swarm/voyager/1'), s: generateKeyPair(), psks: [crypto.randomBytes(32)]});
  const sid = crypto.randomBytes(8);
  await d.send(encodeHandshake(FrameKind.HandshakeInit, sid, hs.writeMessage(Buffer.alloc(0))));
  let resp: Buffer | undefined;
  for (;;) {
    const [m] = await d.receive();
    const f = decodeFrame(m!, 1 << 20);
    if (typeof f !== 'string' && f.kind === FrameKind.HandshakeResponse) {
      resp = f.noise;
      break;
    }
  }
  hs.readMessage(resp);
  await d.send(encodeHandshake(FrameKind.HandshakeFinal, sid, hs.writeMessage(Buffer.from('hello'))));
  await waitFor('unauthenticated and handshake_failed counters', async () => {
    const now = await drops();
    return now.drops.unauthenticated! > before.drops.unauthenticated! && now.drops.handshake_failed! > before.drops.handshake_failed! && now;
  }, 5000);
});

test('an authenticated attacker: forged sender, unknown type, unauthorised type and replays are refused; no handler runs', async () => {
  const d = dealer();
  const raw = await rawSession(d);
  // Sanity: a proper request is answered (the session really works).
  const ok = raw.frameFor({type: 'control.status'});
  await d.send(ok);
  const [reply] = await d.receive();
  expect(raw.open(reply!)).toMatchObject({type: 'reply', body: {ok: true}});
  const before = await drops();

  await d.send(raw.frameFor({from: 'ab'.repeat(16)}));
  await d.send(raw.frameFor({type: 'evil.exec'}));
  await d.send(raw.frameFor({type: 'membership.leave'})); // a client may not speak membership
  await d.send(ok); // replay on the same link
  const other = dealer();
  await other.send(ok); // replay from another connection
  await waitFor('attack counters', async () => {
    const now = await drops();
    const up = (r: string, n: number) => now.drops[r]! >= before.drops[r]! + n;
    return up('forged', 1) && up('unknown_type', 1) && up('policy_denied', 1) && up('replayed', 2) && now;
  }, 5000);
  // membership.leave never reached its handler: nothing about a's members changed, b is still alive.
  const f = await fleet(a);
  expect(f.members.map((m) => m.name).sort()).toEqual(['a', 'b']);
  expect(stateOf(f, 'b')).toBe('alive');
});

test('a peer posing as a node sends malformed snapshot part messages: each is refused with a usage error, nothing is written', async () => {
  const d = dealer();
  const raw = await rawSession(d, 'node');
  const ask = async (body: unknown): Promise<{ok: boolean; error?: {code: string}; result?: unknown}> => {
    await d.send(raw.frameFor({type: 'snapshot.part.put', body}));
    for (;;) {
      const [m] = await d.receive();
      const env = raw.open(m!);
      if (env?.type === 'reply') return env.body as {ok: boolean; error?: {code: string}; result?: unknown};
    }
  };
  const snap = 'feedfacefeedface';
  const good = {snap, part: 0, offset: 0, size: 4, data: Buffer.from('part')};
  for (const bad of [null, 'junk', {...good, data: 'part'}, {...good, offset: -4}, {...good, size: 2 ** 50}, {...good, part: 'zero'}, {...good, snap: '../../etc'}, {...good, sha256: 'nope'}]) {
    expect(await ask(bad)).toMatchObject({ok: false, error: {code: 'usage'}});
  }
  const parts = path.join(dir, 'a', 'snapshot-parts');
  expect(fs.existsSync(parts) ? fs.readdirSync(parts) : []).toEqual([]);
  // The same peer's well-formed chunk is served: the handler was reached, and only the bad bodies were refused.
  const sha = crypto.createHash('sha256').update('part').digest('hex');
  expect(await ask(good)).toEqual({ok: true, result: {complete: true, sha256: sha}});
  expect(fs.readFileSync(path.join(parts, snap, '0.part'), 'utf8')).toBe('part');
  expect(stateOf(await fleet(a), 'b')).toBe('alive');
});

test('a node with the wrong join secret never joins, and the real peer stays alive throughout', async () => {
  const wrong = path.join(dir, 'wrong.secret');
  fs.writeFileSync(wrong, 'a-completely-different-secret-xyz\n', {mode: 0o600});
  const before = await drops();
  const c = startNode({name: 'c', dataDir: path.join(dir, 'c'), port: await freePort(), peers: [aPort], joinSecretFile: wrong});
  await waitUp(c);
  await waitFor('handshake failures from c', async () => {
    const now = await drops();
    return now.drops.handshake_failed! > before.drops.handshake_failed! && now;
  }, 10_000);
  const fa = await fleet(a);
  expect(fa.members.map((m) => m.name)).not.toContain('c');
  expect(stateOf(fa, 'b')).toBe('alive');
  const fc = await fleet(c);
  expect(fc.members.map((m) => m.name)).toEqual(['c']);
  expect(stateOf(await fleet(b), 'a')).toBe('alive');
}, 30_000);
