/**
 * Noise Protocol Framework (revision 34) for the suite 25519_AESGCM_SHA256, built only on node:crypto.
 * Verified byte-for-byte against the cacophony test vectors (test/unit/noise).
 */
export {NoiseError} from './errors.js';
export {generateKeyPair, keyPairFromPrivate, type KeyPair} from './dh.js';
export {CipherState} from './cipher-state.js';
export {HandshakeState, type HandshakeInit} from './handshake-state.js';
export {MAX_MESSAGE_LEN} from './constants.js';
