/**
 * Transport sessions built from a real XXpsk3 handshake: what the receiver accepts and refuses.
 */
import * as crypto from 'node:crypto';

import {generateKeyPair, HandshakeState} from '../../src/core/security/noise/index.js';
import {TransportSession} from '../../src/core/security/session.js';
import {encodeDataHeader} from '../../src/core/transport/frame.js';
import {NOISE_PROTOCOL} from '../../src/core/transport/voyager.js';

function pair(pskI: Buffer, pskR = pskI) {
  const i = new HandshakeState({protocolName: NOISE_PROTOCOL, initiator: true, prologue: Buffer.from('p'), s: generateKeyPair(), psks: [pskI]});
  const r = new HandshakeState({protocolName: NOISE_PROTOCOL, initiator: false, prologue: Buffer.from('p'), s: generateKeyPair(), psks: [pskR]});
  r.readMessage(i.writeMessage(Buffer.alloc(0)));
  i.readMessage(r.writeMessage(Buffer.from('responder hello')));
  r.readMessage(i.writeMessage(Buffer.from('initiator hello')));
  const a = i.split();
  const b = r.split();
  return {
    alice: new TransportSession(a.send, a.recv, 0, {rekeyAfterMessages: 100, rekeyAfterMs: 1000, rejectAfterMs: 2000}),
    bob: new TransportSession(b.send, b.recv, 0, {rekeyAfterMessages: 100, rekeyAfterMs: 1000, rejectAfterMs: 2000}),
  };
}

const sid = crypto.randomBytes(8);
function seal(s: TransportSession, text: string) {
  const counter = s.nextCounter();
  const aad = encodeDataHeader(sid, counter);
  return {counter, aad, ct: s.seal(counter, aad, Buffer.from(text))};
}

describe('transport session over a real XXpsk3 handshake', () => {
  test('a message round-trips both ways', () => {
    const {alice, bob} = pair(crypto.randomBytes(32));
    const m = seal(alice, 'hi bob');
    expect(bob.open(m.counter, m.aad, m.ct, 1)).toEqual({ok: true, plaintext: Buffer.from('hi bob')});
    const r = seal(bob, 'hi alice');
    expect(alice.open(r.counter, r.aad, r.ct, 1)).toEqual({ok: true, plaintext: Buffer.from('hi alice')});
  });

  test('a wrong join secret (PSK) fails the handshake at message 3', () => {
    const i = new HandshakeState({protocolName: NOISE_PROTOCOL, initiator: true, s: generateKeyPair(), psks: [crypto.randomBytes(32)]});
    const r = new HandshakeState({protocolName: NOISE_PROTOCOL, initiator: false, s: generateKeyPair(), psks: [crypto.randomBytes(32)]});
    r.readMessage(i.writeMessage(Buffer.alloc(0)));
    i.readMessage(r.writeMessage(Buffer.alloc(0)));
    expect(() => r.readMessage(i.writeMessage(Buffer.alloc(0)))).toThrow(/authentication failed/);
  });

  test('tampered ciphertext, header (AAD) or counter is refused as unauthenticated', () => {
    const {alice, bob} = pair(crypto.randomBytes(32));
    const m = seal(alice, 'payload');
    const badCt = Buffer.from(m.ct);
    badCt[3]! ^= 1;
    expect(bob.open(m.counter, m.aad, badCt, 1)).toEqual({ok: false, reason: 'unauthenticated'});
    const badAad = Buffer.from(m.aad);
    badAad[1]! ^= 1;
    expect(bob.open(m.counter, badAad, m.ct, 1)).toEqual({ok: false, reason: 'unauthenticated'});
    expect(bob.open(m.counter + 1, m.aad, m.ct, 1)).toEqual({ok: false, reason: 'unauthenticated'});
    // the genuine frame still opens: failed attempts did not burn its counter
    expect(bob.open(m.counter, m.aad, m.ct, 1).ok).toBe(true);
  });

  test('a replayed frame is refused; reordered frames inside the window are each accepted once', () => {
    const {alice, bob} = pair(crypto.randomBytes(32));
    const msgs = Array.from({length: 10}, (_, k) => seal(alice, `m${k}`));
    const order = [0, 3, 1, 2, 9, 4, 8, 5, 7, 6];
    for (const k of order) expect(bob.open(msgs[k]!.counter, msgs[k]!.aad, msgs[k]!.ct, 1)).toEqual({ok: true, plaintext: Buffer.from(`m${k}`)});
    for (const k of order) expect(bob.open(msgs[k]!.counter, msgs[k]!.aad, msgs[k]!.ct, 1)).toEqual({ok: false, reason: 'replayed'});
  });

  test('frames older than the window are refused even if never seen (loss is fine, ancient replays are not)', () => {
    const {alice, bob} = pair(crypto.randomBytes(32));
    const old = seal(alice, 'old');
    for (let k = 0; k < 2100; k++) seal(alice, 'skip'); // lost in transit
    const fresh = seal(alice, 'fresh');
    expect(bob.open(fresh.counter, fresh.aad, fresh.ct, 1).ok).toBe(true);
    expect(bob.open(old.counter, old.aad, old.ct, 1)).toEqual({ok: false, reason: 'replayed'});
  });

  test('a session asks for rekey after its message or time budget and refuses traffic past reject-after', () => {
    const {alice, bob} = pair(crypto.randomBytes(32));
    expect(alice.wantsRekey(10)).toBe(false);
    for (let k = 0; k < 100; k++) seal(alice, 'x');
    expect(alice.wantsRekey(10)).toBe(true);
    expect(bob.wantsRekey(999)).toBe(false);
    expect(bob.wantsRekey(1000)).toBe(true);
    const m = seal(alice, 'late');
    expect(bob.open(m.counter, m.aad, m.ct, 2000)).toEqual({ok: false, reason: 'expired'});
  });
});
