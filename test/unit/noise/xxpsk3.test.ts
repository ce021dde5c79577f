import crypto from 'node:crypto';
import {generateKeyPair, HandshakeState, MAX_MESSAGE_LEN, NoiseError} from '../../../src/core/security/noise/index.js';
import {completedPair, handshakeMessages, PROTOCOL, PSK, xxpsk3} from './helpers.js';

const EMPTY = Buffer.alloc(0);

function expectNoiseError(f: () => unknown): void {
  expect(f).toThrow(NoiseError);
}

/** A fresh pair advanced until message `which` is the next to be read: its reader and the message. */
function pendingRead(which: 1 | 2 | 3): {reader: HandshakeState; message: Buffer} {
  const init = xxpsk3(true);
  const resp = xxpsk3(false);
  const m1 = init.writeMessage(Buffer.from('one'));
  if (which === 1) return {reader: resp, message: m1};
  resp.readMessage(m1);
  const m2 = resp.writeMessage(Buffer.from('two'));
  if (which === 2) return {reader: init, message: m2};
  init.readMessage(m2);
  return {reader: resp, message: init.writeMessage(Buffer.from('three'))};
}

describe('Noise XXpsk3 handshake', () => {
  test('completes with matching hashes, mutual static keys and working transport', () => {
    const init = xxpsk3(true);
    const resp = xxpsk3(false);
    expect(init.isMyTurn()).toBe(true);
    expect(resp.isMyTurn()).toBe(false);
    expect(resp.readMessage(init.writeMessage(Buffer.from('a'))).toString()).toBe('a');
    expect(init.readMessage(resp.writeMessage(Buffer.from('b'))).toString()).toBe('b');
    expect(resp.readMessage(init.writeMessage(Buffer.from('c'))).toString()).toBe('c');
    expect(init.isComplete() && resp.isComplete()).toBe(true);
    expect(init.isMyTurn() || resp.isMyTurn()).toBe(false);
    expect(init.handshakeHash().equals(resp.handshakeHash())).toBe(true);
    expect(init.remoteStatic()).toHaveLength(32);
    expect(resp.remoteStatic()).toHaveLength(32);

    const i = init.split();
    const r = resp.split();
    expect(r.recv.decryptWithAd(EMPTY, i.send.encryptWithAd(EMPTY, Buffer.from('to resp'))).toString()).toBe('to resp');
    expect(i.recv.decryptWithAd(EMPTY, r.send.encryptWithAd(EMPTY, Buffer.from('to init'))).toString()).toBe('to init');
  });

  test('remoteStatic() reports the peer static key actually used', () => {
    const si = generateKeyPair();
    const sr = generateKeyPair();
    const init = new HandshakeState({protocolName: PROTOCOL, initiator: true, s: si, psks: [PSK]});
    const resp = new HandshakeState({protocolName: PROTOCOL, initiator: false, s: sr, psks: [PSK]});
    resp.readMessage(init.writeMessage(EMPTY));
    init.readMessage(resp.writeMessage(EMPTY));
    resp.readMessage(init.writeMessage(EMPTY));
    expect(init.remoteStatic()?.equals(sr.publicKey)).toBe(true);
    expect(resp.remoteStatic()?.equals(si.publicKey)).toBe(true);
  });

  test('wrong psk on the responder: its readMessage of message 3 throws NoiseError', () => {
    const init = xxpsk3(true);
    const resp = xxpsk3(false, crypto.randomBytes(32));
    resp.readMessage(init.writeMessage(EMPTY));
    init.readMessage(resp.writeMessage(EMPTY));
    expectNoiseError(() => resp.readMessage(init.writeMessage(EMPTY)));
    expect(resp.isComplete()).toBe(false);
    // The handshake is aborted: no retry, no keys.
    expectNoiseError(() => resp.split());
    expectNoiseError(() => resp.readMessage(EMPTY));
  });

  test('wrong psk on the initiator: the responder rejects message 3', () => {
    const init = xxpsk3(true, crypto.randomBytes(32));
    const resp = xxpsk3(false);
    resp.readMessage(init.writeMessage(EMPTY));
    init.readMessage(resp.writeMessage(EMPTY));
    expectNoiseError(() => resp.readMessage(init.writeMessage(EMPTY)));
  });

  test('mismatched prologue is detected', () => {
    const init = xxpsk3(true);
    const resp = new HandshakeState({protocolName: PROTOCOL, initiator: false, prologue: Buffer.from('other'), s: generateKeyPair(), psks: [PSK]});
    // psk mode encrypts message 1's payload under a key bound to h, which covers the prologue.
    expectNoiseError(() => resp.readMessage(init.writeMessage(EMPTY)));
  });

  test.each([1, 2, 3] as const)('flipping any byte of message %i throws NoiseError', (which) => {
    const {message} = pendingRead(which);
    for (let pos = 0; pos < message.length; pos++) {
      const {reader, message: fresh} = pendingRead(which);
      const bad = Buffer.from(fresh);
      bad[pos] = (bad[pos] ?? 0) ^ 0x01;
      expectNoiseError(() => reader.readMessage(bad));
    }
  });

  test.each([1, 2, 3] as const)('truncated or extended message %i throws NoiseError', (which) => {
    const {message} = pendingRead(which);
    for (let len = 0; len < message.length; len++) {
      const {reader, message: fresh} = pendingRead(which);
      expectNoiseError(() => reader.readMessage(fresh.subarray(0, len)));
    }
    const {reader, message: fresh} = pendingRead(which);
    expectNoiseError(() => reader.readMessage(Buffer.concat([fresh, Buffer.of(0)])));
  });

  test('random garbage only ever produces NoiseError', () => {
    for (let i = 0; i < 200; i++) {
      const {reader} = pendingRead(((i % 3) + 1) as 1 | 2 | 3);
      const junk = crypto.randomBytes(crypto.randomInt(0, 300));
      expectNoiseError(() => reader.readMessage(junk));
    }
  });

  test('a low-order ephemeral key from the peer is a NoiseError, not a crash', () => {
    const {reader, message} = pendingRead(2);
    const forged = Buffer.from(message);
    forged.fill(0, 0, 32); // u = 0 is a small-order point: X25519 would output all zeros
    expectNoiseError(() => reader.readMessage(forged));
  });

  test('messages over 65535 bytes are refused on read and write', () => {
    const {reader} = pendingRead(1);
    expectNoiseError(() => reader.readMessage(Buffer.alloc(MAX_MESSAGE_LEN + 1)));

    const init = xxpsk3(true);
    // Message 1 is e (32) + payload + tag (16): the largest payload is 65535 - 48.
    expectNoiseError(() => init.writeMessage(Buffer.alloc(MAX_MESSAGE_LEN - 48 + 1)));
    // The refusal happened before any state change, so the handshake continues normally.
    const resp = xxpsk3(false);
    const m1 = init.writeMessage(Buffer.alloc(MAX_MESSAGE_LEN - 48));
    expect(m1).toHaveLength(MAX_MESSAGE_LEN);
    expect(resp.readMessage(m1)).toHaveLength(MAX_MESSAGE_LEN - 48);
  });

  test('state misuse throws NoiseError', () => {
    const {init, resp, msg3} = handshakeMessages();
    expectNoiseError(() => resp.writeMessage(EMPTY)); // responder must read message 3 first
    expectNoiseError(() => init.readMessage(msg3)); // initiator has nothing to read
    expectNoiseError(() => init.writeMessage(EMPTY)); // initiator's part is done after message 3
    expect(init.isComplete()).toBe(true);
    expect(resp.isComplete()).toBe(false);
    expectNoiseError(() => resp.split());
  });

  test('split() only after completion and only once', () => {
    const init = xxpsk3(true);
    expectNoiseError(() => init.split());
    const {init: done} = completedPair();
    expectNoiseError(() => done.split());
    expectNoiseError(() => done.writeMessage(EMPTY));
  });

  test('construction rejects bad parameters', () => {
    const s = generateKeyPair();
    const mk = (over: Partial<ConstructorParameters<typeof HandshakeState>[0]>) => () =>
      new HandshakeState({protocolName: PROTOCOL, initiator: true, s, psks: [PSK], ...over});
    expectNoiseError(mk({protocolName: 'Noise_XXpsk3_25519_ChaChaPoly_SHA256'}));
    expectNoiseError(mk({protocolName: 'Noise_XXpsk3_448_AESGCM_SHA256'}));
    expectNoiseError(mk({protocolName: 'Noise_XXpsk3_25519_AESGCM_BLAKE2s'}));
    expectNoiseError(mk({protocolName: 'Noise_ZZ_25519_AESGCM_SHA256'}));
    expectNoiseError(mk({protocolName: 'Noise_XXfallback_25519_AESGCM_SHA256'}));
    expectNoiseError(mk({protocolName: 'Noise_XXpsk4_25519_AESGCM_SHA256'}));
    expectNoiseError(mk({protocolName: 'XXpsk3'}));
    expectNoiseError(mk({psks: []}));
    expectNoiseError(mk({psks: [PSK, PSK]}));
    expectNoiseError(mk({psks: [Buffer.alloc(31)]}));
    expectNoiseError(mk({s: undefined}));
    expectNoiseError(mk({s: {publicKey: generateKeyPair().publicKey, privateKey: s.privateKey}}));
    expectNoiseError(mk({rs: generateKeyPair().publicKey})); // XX transmits rs; pinning it here would be ignored
    expect(mk({})()).toBeInstanceOf(HandshakeState);
  });
});
