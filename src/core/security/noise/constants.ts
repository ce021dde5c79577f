/** Sizes fixed by the suite 25519_AESGCM_SHA256 and by the Noise specification (revision 34). */

/** Noise caps every message, handshake or transport, at 65535 bytes (spec section 3). */
export const MAX_MESSAGE_LEN = 65535;
/** X25519 public keys, private keys and shared secrets. */
export const DHLEN = 32;
/** SHA-256 output. */
export const HASHLEN = 32;
/** AES-256 key. */
export const KEYLEN = 32;
/** AES-GCM authentication tag appended to each ciphertext. */
export const TAGLEN = 16;
/** Nonce 2^64-1 is reserved for REKEY and may never encrypt a message. */
export const MAX_NONCE = 2n ** 64n - 1n;
