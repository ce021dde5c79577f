import {HandshakeState, keyPairFromPrivate, type CipherState} from '../../../src/core/security/noise/index.js';
import {loadVectors, type NoiseVector} from './vectors-fixture.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const opt = <T>(v: string | undefined, f: (b: Buffer) => T): T | undefined => (v === undefined ? undefined : f(hex(v)));

const vectors = loadVectors();

function side(v: NoiseVector, initiator: boolean): HandshakeState {
  const p = initiator ? 'init' : 'resp';
  return new HandshakeState({
    protocolName: v.protocol_name,
    initiator,
    prologue: hex(v[`${p}_prologue`]),
    s: opt(v[`${p}_static`], keyPairFromPrivate),
    e: opt(v[`${p}_ephemeral`], keyPairFromPrivate),
    rs: opt(v[`${p}_remote_static`], (b) => b),
    psks: v[`${p}_psks`]?.map(hex),
  });
}

test('all 59 published vectors are present', () => {
  expect(vectors).toHaveLength(59);
});

test.each(vectors.map((v) => [v.protocol_name, v] as const))('%s', (_name, v) => {
  const init = side(v, true);
  const resp = side(v, false);
  let transport: {i: {send: CipherState; recv: CipherState}; r: {send: CipherState; recv: CipherState}} | undefined;
  // One-way patterns (N, K, X) send everything initiator to responder; the rest alternate throughout.
  const oneWay = /^Noise_[NKX](psk\d+)?_/.test(v.protocol_name);

  v.messages.forEach((m, i) => {
    const payload = hex(m.payload);
    const initiatorSends = oneWay || i % 2 === 0;
    if (!init.isComplete()) {
      const [w, r] = initiatorSends ? [init, resp] : [resp, init];
      expect(w.isMyTurn()).toBe(true);
      expect(r.isMyTurn()).toBe(false);
      const ct = w.writeMessage(payload);
      expect(ct.toString('hex')).toBe(m.ciphertext);
      expect(r.readMessage(ct).toString('hex')).toBe(m.payload);
      return;
    }
    expect(resp.isComplete()).toBe(true);
    if (transport === undefined) {
      expect(init.handshakeHash().toString('hex')).toBe(v.handshake_hash);
      expect(resp.handshakeHash().toString('hex')).toBe(v.handshake_hash);
      transport = {i: init.split(), r: resp.split()};
    }
    const [send, recv] = initiatorSends ? [transport.i.send, transport.r.recv] : [transport.r.send, transport.i.recv];
    const ct = send.encryptWithAd(Buffer.alloc(0), payload);
    expect(ct.toString('hex')).toBe(m.ciphertext);
    expect(recv.decryptWithAd(Buffer.alloc(0), ct).toString('hex')).toBe(m.payload);
  });
  // Every vector has transport messages, so the hash check above must have run.
  expect(transport).toBeDefined();
});
