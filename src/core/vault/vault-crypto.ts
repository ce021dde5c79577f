import * as crypto from 'node:crypto';

/**
 * The vault's cryptography, from node:crypto only. A passphrase -> scrypt -> key-encryption key
 * (KEK) that wraps a random 256-bit data key (AES-256-GCM); each entry is sealed with the data key
 * under a fresh 96-bit nonce, with the entry's name, version and key generation as associated data,
 * so a ciphertext moved to another name or an older version does not open. An HMAC over the whole
 * index (names, versions, nonces) catches an entry swapped, dropped or rolled back with its metadata.
 */
export interface KdfParams {
  alg: 'scrypt';
  /** Cost: at least 2^15. */
  N: number;
  r: number;
  p: number;
  /** base64, 16 random bytes. */
  salt: string;
}

export interface Sealed {
  nonce: string;
  ct: string;
  tag: string;
}

export const MIN_SCRYPT_N = 2 ** 15;
export const DEFAULT_KDF: Omit<KdfParams, 'salt'> = {alg: 'scrypt', N: 2 ** 15, r: 8, p: 1};
const KEY_BYTES = 32;

export function newKdfParams(over: Partial<Omit<KdfParams, 'alg' | 'salt'>> = {}): KdfParams {
  return {...DEFAULT_KDF, ...over, salt: crypto.randomBytes(16).toString('base64')};
}

/** scrypt needs 128·N·r bytes; give it room (Node's default cap is 32 MiB, exactly N=2^15's need). */
const maxmem = (k: KdfParams): number => 256 * k.N * k.r + 1024 * 1024;

export function deriveKek(passphrase: string, k: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(passphrase.normalize('NFC'), Buffer.from(k.salt, 'base64'), KEY_BYTES, {N: k.N, r: k.r, p: k.p, maxmem: maxmem(k)}, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export function newDataKey(): Buffer {
  return crypto.randomBytes(KEY_BYTES);
}

export function seal(key: Buffer, plaintext: Buffer, aad: string): Sealed {
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return {nonce: nonce.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64')};
}

/** Opens a sealed value; undefined when the key, the associated data or any byte is wrong. */
export function open(key: Buffer, s: Sealed, aad: string): Buffer | undefined {
  try {
    const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(s.nonce, 'base64'));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(Buffer.from(s.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(s.ct, 'base64')), d.final()]);
  } catch {
    return undefined;
  }
}

/** A MAC key of its own, derived from the data key (never the same key for two jobs). */
export function indexKey(dataKey: Buffer): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', dataKey, Buffer.alloc(0), Buffer.from('swarm-vault/1 index'), KEY_BYTES));
}

export function mac(key: Buffer, text: string): string {
  return crypto.createHmac('sha256', key).update(text).digest('base64');
}

export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64');
  const y = Buffer.from(b, 'base64');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
