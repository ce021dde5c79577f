import crypto from 'node:crypto';
import {KEYLEN, MAX_MESSAGE_LEN, MAX_NONCE, TAGLEN} from './constants.js';
import {NoiseError} from './errors.js';

const ZEROS = Buffer.alloc(KEYLEN);
const EMPTY = Buffer.alloc(0);

/** Noise's AESGCM nonce: 32 bits of zeros followed by the 64-bit counter, big-endian (spec 12.4). */
function gcmNonce(n: bigint): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(n, 4);
  return iv;
}

function checkNonce(n: bigint): void {
  // 2^64-1 is reserved for REKEY; letting a message use it would reuse the rekey keystream.
  if (typeof n !== 'bigint' || n < 0n || n >= MAX_NONCE) throw new NoiseError('nonce out of range [0, 2^64-2]');
}

/**
 * Largest input handed to one cipher update. Node allocates a zero-filled output of input+1 bytes
 * per update and then copies it into one of the exact size; at 256 KiB those are fresh pages from
 * mmap, and on a VM their page faults cost about five times the AES-GCM itself. Slices under glibc's
 * mmap threshold (128 KiB) come from the heap, and each output is copied once into the caller's buffer.
 */
const SLICE = 64 * 1024;
/** Pieces shorter than this are gathered into one update (e.g. a batch's 4-byte length prefixes). */
const GATHER_BELOW = 4 * 1024;
const gather = Buffer.allocUnsafe(SLICE);

type Updater = {update(data: Buffer): Buffer};

/** Runs `pieces` through `c` in order, writing the output into `out` from `at`; returns the end. */
function updateInto(c: Updater, pieces: readonly Buffer[], out: Buffer, at: number): number {
  let fill = 0;
  const drain = (): void => {
    if (fill > 0) at += c.update(gather.subarray(0, fill)).copy(out, at);
    fill = 0;
  };
  for (const p of pieces) {
    if (p.length < GATHER_BELOW) {
      if (fill + p.length > SLICE) drain();
      fill += p.copy(gather, fill);
      continue;
    }
    drain();
    for (let i = 0; i < p.length; i += SLICE) at += c.update(p.subarray(i, i + SLICE)).copy(out, at);
  }
  drain();
  return at;
}

/**
 * Encrypts the concatenation of `plaintext` (one buffer or pieces, so a caller never has to join
 * them first) into one buffer: `prefix` (e.g. a transport header), the ciphertext, then the tag.
 */
function seal(k: Buffer, n: bigint, ad: Buffer, plaintext: Buffer | readonly Buffer[], prefix?: Buffer): Buffer {
  const pieces = Buffer.isBuffer(plaintext) ? [plaintext] : plaintext;
  const pre = prefix?.length ?? 0;
  let length = 0;
  for (const p of pieces) length += p.length;
  const out = Buffer.allocUnsafe(pre + length + TAGLEN);
  if (prefix) prefix.copy(out, 0);
  const cipher = crypto.createCipheriv('aes-256-gcm', k, gcmNonce(n), {authTagLength: TAGLEN});
  cipher.setAAD(ad);
  const end = updateInto(cipher, pieces, out, pre);
  cipher.final(); // GCM produces no bytes at final
  cipher.getAuthTag().copy(out, end);
  return out;
}

/** Decrypts and authenticates; the plaintext is returned only when the tag verifies. */
function open(k: Buffer, n: bigint, ad: Buffer, ciphertext: Buffer): Buffer {
  if (ciphertext.length < TAGLEN) throw new NoiseError('ciphertext shorter than the authentication tag');
  const body = ciphertext.subarray(0, ciphertext.length - TAGLEN);
  const tag = ciphertext.subarray(ciphertext.length - TAGLEN);
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', k, gcmNonce(n), {authTagLength: TAGLEN});
    decipher.setAAD(ad);
    decipher.setAuthTag(tag);
    const out = Buffer.allocUnsafe(body.length);
    updateInto(decipher, [body], out, 0);
    decipher.final(); // throws when the tag does not verify; yields no bytes for GCM
    return out;
  } catch (err) {
    throw new NoiseError('authentication failed', {cause: err});
  }
}

/**
 * Noise CipherState (spec section 5.1) for AES-256-GCM: a key `k` (possibly empty) and a 64-bit
 * nonce `n`. Without a key, encryption and decryption are the identity, as the handshake requires.
 * Handshake and internal-nonce messages are bounded by the 65535-byte Noise message limit.
 */
export class CipherState {
  private k: Buffer | undefined;
  private n = 0n;

  /** `key`, when given, must be 32 bytes; it is copied. */
  constructor(key?: Buffer) {
    if (key !== undefined) {
      if (!Buffer.isBuffer(key) || key.length !== KEYLEN) throw new NoiseError(`cipher key must be ${KEYLEN} bytes`);
      this.k = Buffer.from(key);
    }
  }

  hasKey(): boolean {
    return this.k !== undefined;
  }

  /** Sets the internal nonce; used by the handshake and by callers resynchronising a transport. */
  setNonce(n: bigint): void {
    if (typeof n !== 'bigint' || n < 0n || n > MAX_NONCE) throw new NoiseError('nonce out of range');
    this.n = n;
  }

  /** Encrypts with the internal nonce, then increments it. Throws NoiseError once nonces are exhausted. */
  encryptWithAd(ad: Buffer, plaintext: Buffer): Buffer {
    if (this.k === undefined) return this.passthrough(plaintext);
    if (plaintext.length > MAX_MESSAGE_LEN - TAGLEN) throw new NoiseError('plaintext exceeds the Noise message limit');
    const out = this.encryptWithNonce(this.n, ad, plaintext);
    this.n++;
    return out;
  }

  /** Decrypts with the internal nonce; the nonce advances only when authentication succeeds. */
  decryptWithAd(ad: Buffer, ciphertext: Buffer): Buffer {
    if (this.k === undefined) return this.passthrough(ciphertext);
    if (ciphertext.length > MAX_MESSAGE_LEN) throw new NoiseError('ciphertext exceeds the Noise message limit');
    const out = this.decryptWithNonce(this.n, ad, ciphertext);
    this.n++;
    return out;
  }

  /**
   * Encrypts under an explicit nonce, leaving the internal nonce untouched: for transports that carry
   * the counter on the wire. The caller must never use a nonce twice under the same key.
   * No 65535-byte cap here: that limit is Noise's stream framing; a message-oriented transport (ZeroMQ
   * frames) bounds its own sizes, and GCM is safe far beyond it. With `prefix`, the result is
   * prefix || ciphertext in one buffer; `plaintext` may be given in pieces (encrypted as their concatenation).
   */
  encryptWithNonce(n: bigint, ad: Buffer, plaintext: Buffer | readonly Buffer[], prefix?: Buffer): Buffer {
    const k = this.requireKey();
    checkNonce(n);
    return seal(k, n, ad, plaintext, prefix);
  }

  /** Decrypts under an explicit nonce, leaving the internal nonce untouched. Throws NoiseError on any failure. */
  decryptWithNonce(n: bigint, ad: Buffer, ciphertext: Buffer): Buffer {
    const k = this.requireKey();
    checkNonce(n);
    return open(k, n, ad, ciphertext);
  }

  /** Noise REKEY (spec 4.2): k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes). Nonce unchanged. */
  rekey(): void {
    const k = this.requireKey();
    this.k = seal(k, MAX_NONCE, EMPTY, ZEROS).subarray(0, KEYLEN);
  }

  private requireKey(): Buffer {
    if (this.k === undefined) throw new NoiseError('cipher state has no key');
    return this.k;
  }

  private passthrough(data: Buffer): Buffer {
    if (data.length > MAX_MESSAGE_LEN) throw new NoiseError('data exceeds the Noise message limit');
    return Buffer.from(data);
  }
}
