import crypto from 'node:crypto';
import {DHLEN} from './constants.js';
import {NoiseError} from './errors.js';

/** An X25519 key pair as raw 32-byte strings (RFC 7748 encoding). */
export interface KeyPair {
  publicKey: Buffer;
  privateKey: Buffer;
}

// node:crypto only imports raw X25519 keys wrapped in ASN.1; these fixed prefixes are the DER
// encodings of PrivateKeyInfo (RFC 8410) and SubjectPublicKeyInfo with the key bytes appended.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function privateKeyObject(raw: Buffer): crypto.KeyObject {
  if (!Buffer.isBuffer(raw) || raw.length !== DHLEN) throw new NoiseError(`X25519 private key must be ${DHLEN} bytes`);
  return crypto.createPrivateKey({key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8'});
}

function publicKeyObject(raw: Buffer): crypto.KeyObject {
  if (!Buffer.isBuffer(raw) || raw.length !== DHLEN) throw new NoiseError(`X25519 public key must be ${DHLEN} bytes`);
  return crypto.createPublicKey({key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki'});
}

function rawPublic(key: crypto.KeyObject): Buffer {
  return Buffer.from(key.export({format: 'der', type: 'spki'}).subarray(-DHLEN));
}

/** Generates a fresh X25519 key pair from the OS CSPRNG. */
export function generateKeyPair(): KeyPair {
  const {publicKey, privateKey} = crypto.generateKeyPairSync('x25519');
  const der = privateKey.export({format: 'der', type: 'pkcs8'});
  return {publicKey: rawPublic(publicKey), privateKey: Buffer.from(der.subarray(-DHLEN))};
}

/** Derives the key pair of a raw 32-byte X25519 private key (clamping is applied by X25519 itself). */
export function keyPairFromPrivate(privateKey: Buffer): KeyPair {
  return {publicKey: rawPublic(crypto.createPublicKey(privateKeyObject(privateKey))), privateKey: Buffer.from(privateKey)};
}

/**
 * Noise DH(): the X25519 shared secret of a local private key and a remote public key.
 * Throws NoiseError for malformed keys and for low-order public keys (OpenSSL refuses an all-zero
 * result, which Noise permits implementations to reject).
 */
export function dh(privateKey: Buffer, publicKey: Buffer): Buffer {
  const priv = privateKeyObject(privateKey);
  const pub = publicKeyObject(publicKey);
  try {
    return crypto.diffieHellman({privateKey: priv, publicKey: pub});
  } catch (err) {
    throw new NoiseError('X25519 key agreement failed (invalid or low-order public key)', {cause: err});
  }
}
