import crypto from 'node:crypto';
import {HASHLEN} from './constants.js';
import {CipherState} from './cipher-state.js';

const EMPTY = Buffer.alloc(0);

function sha256(...parts: Buffer[]): Buffer {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmac(key: Buffer, ...parts: Buffer[]): Buffer {
  const m = crypto.createHmac('sha256', key);
  for (const p of parts) m.update(p);
  return m.digest();
}

/** Noise HKDF (spec 4.3): two or three HASHLEN outputs chained from HMAC(chainingKey, ikm). */
function hkdf(chainingKey: Buffer, ikm: Buffer, outputs: 2 | 3): Buffer[] {
  const tempKey = hmac(chainingKey, ikm);
  const out: Buffer[] = [];
  let prev: Buffer = EMPTY;
  for (let i = 1; i <= outputs; i++) {
    prev = hmac(tempKey, prev, Buffer.of(i));
    out.push(prev);
  }
  return out;
}

/**
 * Noise SymmetricState (spec 5.2): the chaining key `ck`, the handshake hash `h` and the CipherState
 * that encrypts handshake payloads once a key has been mixed in.
 */
export class SymmetricState {
  private ck: Buffer;
  private h: Buffer;
  private cs = new CipherState();

  /** InitializeSymmetric: a name of at most HASHLEN bytes is zero-padded into h, a longer one hashed. */
  constructor(protocolName: string) {
    const name = Buffer.from(protocolName, 'utf8');
    this.h = name.length <= HASHLEN ? Buffer.concat([name, Buffer.alloc(HASHLEN - name.length)]) : sha256(name);
    this.ck = Buffer.from(this.h);
  }

  hasKey(): boolean {
    return this.cs.hasKey();
  }

  mixKey(ikm: Buffer): void {
    const [ck, tempK] = hkdf(this.ck, ikm, 2) as [Buffer, Buffer];
    this.ck = ck;
    this.cs = new CipherState(tempK);
  }

  mixHash(data: Buffer): void {
    this.h = sha256(this.h, data);
  }

  /** Used for PSKs: the secret reaches both the key and the transcript hash. */
  mixKeyAndHash(ikm: Buffer): void {
    const [ck, tempH, tempK] = hkdf(this.ck, ikm, 3) as [Buffer, Buffer, Buffer];
    this.ck = ck;
    this.mixHash(tempH);
    this.cs = new CipherState(tempK);
  }

  handshakeHash(): Buffer {
    return Buffer.from(this.h);
  }

  /** Encrypts with h as associated data, then hashes the ciphertext into h. */
  encryptAndHash(plaintext: Buffer): Buffer {
    const ciphertext = this.cs.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** Decrypts with h as associated data (throws NoiseError on failure), then hashes the ciphertext into h. */
  decryptAndHash(ciphertext: Buffer): Buffer {
    const plaintext = this.cs.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** The two transport CipherStates: c1 for initiator-to-responder, c2 for the reverse. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.ck, EMPTY, 2) as [Buffer, Buffer];
    return [new CipherState(k1), new CipherState(k2)];
  }
}
