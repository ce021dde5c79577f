import {generateKeyPair, keyPairFromPrivate, NoiseError} from '../../../src/core/security/noise/index.js';

describe('X25519 key pairs', () => {
  test('RFC 7748 section 6.1 public keys', () => {
    const alice = keyPairFromPrivate(Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex'));
    const bob = keyPairFromPrivate(Buffer.from('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb', 'hex'));
    expect(alice.publicKey.toString('hex')).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(bob.publicKey.toString('hex')).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  });

  test('generated pairs are raw 32-byte keys that round-trip through keyPairFromPrivate', () => {
    const kp = generateKeyPair();
    expect(kp.publicKey).toHaveLength(32);
    expect(kp.privateKey).toHaveLength(32);
    expect(keyPairFromPrivate(kp.privateKey).publicKey.equals(kp.publicKey)).toBe(true);
    expect(generateKeyPair().privateKey.equals(kp.privateKey)).toBe(false);
  });

  test('wrong-length private keys are a NoiseError', () => {
    expect(() => keyPairFromPrivate(Buffer.alloc(31))).toThrow(NoiseError);
    expect(() => keyPairFromPrivate(Buffer.alloc(33))).toThrow(NoiseError);
  });
});
