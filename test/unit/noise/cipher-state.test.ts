import crypto from 'node:crypto';
import {CipherState, MAX_MESSAGE_LEN, NoiseError} from '../../../src/core/security/noise/index.js';
import {completedPair} from './helpers.js';

const EMPTY = Buffer.alloc(0);
const AD = Buffer.from('header');

describe('CipherState (XXpsk3 transport keys)', () => {
  test('a failed decrypt does not advance the nonce', () => {
    const {i, r} = completedPair();
    const a = i.send.encryptWithAd(AD, Buffer.from('first'));
    const b = i.send.encryptWithAd(AD, Buffer.from('second'));
    const tampered = Buffer.from(a);
    tampered[0] = (tampered[0] ?? 0) ^ 0xff;
    expect(() => r.recv.decryptWithAd(AD, tampered)).toThrow(NoiseError);
    expect(() => r.recv.decryptWithAd(Buffer.from('other ad'), a)).toThrow(NoiseError);
    expect(() => r.recv.decryptWithAd(AD, a.subarray(0, 15))).toThrow(NoiseError);
    expect(r.recv.decryptWithAd(AD, a).toString()).toBe('first');
    expect(r.recv.decryptWithAd(AD, b).toString()).toBe('second');
  });

  test('explicit nonces: round trip, out-of-order delivery, internal nonce untouched', () => {
    const {i, r} = completedPair();
    const nonces = [5n, 2n, 9n, 0n, 2n ** 63n];
    const sealed = nonces.map((n) => ({n, ct: i.send.encryptWithNonce(n, AD, Buffer.from(`msg ${n}`))}));
    for (const {n, ct} of [...sealed].reverse()) {
      expect(r.recv.decryptWithNonce(n, AD, ct).toString()).toBe(`msg ${n}`);
    }
    // Wrong counter or wrong AD fails authentication.
    expect(() => r.recv.decryptWithNonce(6n, AD, sealed[0]?.ct ?? EMPTY)).toThrow(NoiseError);
    expect(() => r.recv.decryptWithNonce(5n, EMPTY, sealed[0]?.ct ?? EMPTY)).toThrow(NoiseError);
    // The implicit counter is still 0 on both sides.
    const implicit = i.send.encryptWithAd(AD, Buffer.from('msg 0'));
    expect(implicit.equals(sealed[3]?.ct ?? EMPTY)).toBe(true);
    expect(r.recv.decryptWithAd(AD, implicit).toString()).toBe('msg 0');
  });

  test('pieces and sizes across the update slices seal exactly as one-shot AES-256-GCM, and open back', () => {
    const key = crypto.randomBytes(32);
    const cs = new CipherState(key);
    const prefix = Buffer.from('HDR');
    // Sizes around the 64 KiB update slice and the 4 KiB gather limit, mixed small and large pieces.
    const shapes = [[0], [1], [4095, 4096, 4097], [65535, 1, 65536, 65537], [4, 300_000, 4, 7, 3, 200_000], Array.from({length: 40}, () => 2000)];
    for (const sizes of shapes) {
      const pieces = sizes.map((n) => crypto.randomBytes(n));
      const whole = Buffer.concat(pieces);
      const iv = Buffer.alloc(12);
      iv.writeBigUInt64BE(3n, 4);
      const ref = crypto.createCipheriv('aes-256-gcm', key, iv, {authTagLength: 16});
      ref.setAAD(AD);
      const want = Buffer.concat([prefix, ref.update(whole), ref.final(), ref.getAuthTag()]);
      expect(cs.encryptWithNonce(3n, AD, pieces, prefix).equals(want)).toBe(true);
      expect(cs.encryptWithNonce(3n, AD, whole).equals(want.subarray(prefix.length))).toBe(true);
      expect(cs.decryptWithNonce(3n, AD, want.subarray(prefix.length)).equals(whole)).toBe(true);
    }
    // A flipped bit deep in a large message (past the first slices) still fails the whole message.
    const big = cs.encryptWithNonce(4n, AD, crypto.randomBytes(300_000));
    big[250_000] = (big[250_000] ?? 0) ^ 1;
    expect(() => cs.decryptWithNonce(4n, AD, big)).toThrow(NoiseError);
  });

  test('nonce 2^64-1 is reserved and out-of-range nonces are refused', () => {
    const cs = new CipherState(crypto.randomBytes(32));
    expect(() => cs.encryptWithNonce(2n ** 64n - 1n, AD, EMPTY)).toThrow(NoiseError);
    expect(() => cs.encryptWithNonce(-1n, AD, EMPTY)).toThrow(NoiseError);
    expect(() => cs.decryptWithNonce(2n ** 64n, AD, Buffer.alloc(16))).toThrow(NoiseError);
    cs.setNonce(2n ** 64n - 2n);
    expect(cs.encryptWithAd(AD, EMPTY)).toHaveLength(16);
    expect(() => cs.encryptWithAd(AD, EMPTY)).toThrow(NoiseError); // exhausted
  });

  test('rekey changes the ciphertext; both sides agree after both rekey', () => {
    const {i, r} = completedPair();
    const before = i.send.encryptWithNonce(7n, AD, Buffer.from('payload'));
    i.send.rekey();
    const after = i.send.encryptWithNonce(7n, AD, Buffer.from('payload'));
    expect(after.equals(before)).toBe(false);
    expect(() => r.recv.decryptWithNonce(7n, AD, after)).toThrow(NoiseError);
    r.recv.rekey();
    expect(r.recv.decryptWithNonce(7n, AD, after).toString()).toBe('payload');
    // Implicit nonces carry over across rekey (spec: only k changes).
    const x = i.send.encryptWithAd(AD, Buffer.from('x'));
    expect(r.recv.decryptWithAd(AD, x).toString()).toBe('x');
  });

  test('rekey is deterministic: two copies of a key stay in lockstep', () => {
    const key = crypto.randomBytes(32);
    const a = new CipherState(key);
    const b = new CipherState(key);
    for (let k = 0; k < 3; k++) {
      a.rekey();
      b.rekey();
      expect(b.decryptWithNonce(1n, AD, a.encryptWithNonce(1n, AD, Buffer.from('z'))).toString()).toBe('z');
    }
  });

  test('without a key: handshake passthrough for implicit nonces, refusal for explicit ones', () => {
    const cs = new CipherState();
    expect(cs.hasKey()).toBe(false);
    expect(cs.encryptWithAd(AD, Buffer.from('clear')).toString()).toBe('clear');
    expect(cs.decryptWithAd(AD, Buffer.from('clear')).toString()).toBe('clear');
    expect(() => cs.encryptWithNonce(0n, AD, EMPTY)).toThrow(NoiseError);
    expect(() => cs.decryptWithNonce(0n, AD, Buffer.alloc(16))).toThrow(NoiseError);
    expect(() => cs.rekey()).toThrow(NoiseError);
    expect(() => new CipherState(Buffer.alloc(16))).toThrow(NoiseError);
  });

  test('internal-nonce messages are bounded by the 65535-byte Noise limit; explicit-nonce ones by the caller', () => {
    const cs = new CipherState(crypto.randomBytes(32));
    expect(cs.encryptWithAd(AD, Buffer.alloc(MAX_MESSAGE_LEN - 16))).toHaveLength(MAX_MESSAGE_LEN);
    expect(() => cs.encryptWithAd(AD, Buffer.alloc(MAX_MESSAGE_LEN - 15))).toThrow(NoiseError);
    expect(() => cs.decryptWithAd(AD, Buffer.alloc(MAX_MESSAGE_LEN + 1))).toThrow(NoiseError);
    // The transport bounds its frames itself (1 MiB by default), so 64 KiB payloads fit in one frame.
    const key = crypto.randomBytes(32);
    const big = crypto.randomBytes(256 * 1024);
    const ct = new CipherState(key).encryptWithNonce(5n, AD, big);
    expect(new CipherState(key).decryptWithNonce(5n, AD, ct).equals(big)).toBe(true);
  });
});
