import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

import {readSecretFile, writeSecretFile} from '../config/secure-file.js';
import {UsageError} from '../errors.js';

/**
 * A node's (or operator's) long-term Ed25519 identity. The node id and fingerprint are derived from
 * the raw public key, so they survive restarts as long as the key file does.
 */
export interface Identity {
  /** 32 hex chars: the first 16 bytes of sha256(raw public key). */
  readonly id: string;
  /** ssh-style: "SHA256:" + unpadded base64 of sha256(raw public key). */
  readonly fingerprint: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  sign(data: Buffer): Buffer;
}

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export function idOf(publicKey: Buffer): string {
  return crypto.createHash('sha256').update(publicKey).digest().subarray(0, 16).toString('hex');
}

export function fingerprintOf(publicKey: Buffer): string {
  return 'SHA256:' + crypto.createHash('sha256').update(publicKey).digest('base64').replace(/=+$/, '');
}

function rawPublicKey(key: crypto.KeyObject): Buffer {
  const jwk = key.export({format: 'jwk'});
  return Buffer.from(jwk.x as string, 'base64url');
}

function identityFrom(privateKey: crypto.KeyObject): Identity {
  const publicKey = rawPublicKey(crypto.createPublicKey(privateKey));
  return {
    id: idOf(publicKey),
    fingerprint: fingerprintOf(publicKey),
    publicKey,
    sign: (data) => crypto.sign(null, data, privateKey),
  };
}

export function generateIdentity(): Identity {
  return identityFrom(crypto.generateKeyPairSync('ed25519').privateKey);
}

/**
 * Loads the identity from `file`, creating it (0600, fsynced) on first start.
 * Returns `created: true` when a new key was written.
 */
export function loadOrCreateIdentity(file: string): {identity: Identity; created: boolean} {
  if (!fs.existsSync(file)) {
    const {privateKey} = crypto.generateKeyPairSync('ed25519');
    writeSecretFile(file, privateKey.export({format: 'pem', type: 'pkcs8'}) as string);
    return {identity: identityFrom(privateKey), created: true};
  }
  const pem = readSecretFile(file, 'identity key');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(pem);
  } catch {
    throw new UsageError(`identity key ${file} is not a PEM private key; move it away to create a new identity`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`identity key ${file} is not an Ed25519 key`);
  return {identity: identityFrom(key), created: false};
}

/** Verifies an Ed25519 signature by a raw 32-byte public key; false (never throws) on any bad input. */
export function verifySignature(publicKey: Buffer, data: Buffer, signature: Buffer): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  try {
    const key = crypto.createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url')}, format: 'jwk'});
    return crypto.verify(null, data, key, signature);
  } catch {
    return false;
  }
}
