import crypto from 'node:crypto';
import {generateKeyPair, HandshakeState, type CipherState} from '../../../src/core/security/noise/index.js';

export const PROTOCOL = 'Noise_XXpsk3_25519_AESGCM_SHA256';
export const PROLOGUE = Buffer.from('swarm test prologue');
export const PSK = crypto.createHash('sha256').update('join secret').digest();

export function xxpsk3(initiator: boolean, psk: Buffer = PSK): HandshakeState {
  return new HandshakeState({protocolName: PROTOCOL, initiator, prologue: PROLOGUE, s: generateKeyPair(), psks: [psk]});
}

export interface Completed {
  init: HandshakeState;
  resp: HandshakeState;
  i: {send: CipherState; recv: CipherState};
  r: {send: CipherState; recv: CipherState};
}

/** Runs a full XXpsk3 handshake with fresh keys and splits both sides. */
export function completedPair(): Completed {
  const init = xxpsk3(true);
  const resp = xxpsk3(false);
  resp.readMessage(init.writeMessage(Buffer.from('m1')));
  init.readMessage(resp.writeMessage(Buffer.from('m2')));
  resp.readMessage(init.writeMessage(Buffer.from('m3')));
  return {init, resp, i: init.split(), r: resp.split()};
}

/** Captures the three handshake messages of a fresh pair, leaving the responder expecting message 3. */
export function handshakeMessages(): {init: HandshakeState; resp: HandshakeState; msg1: Buffer; msg2: Buffer; msg3: Buffer} {
  const init = xxpsk3(true);
  const resp = xxpsk3(false);
  const msg1 = init.writeMessage(Buffer.from('hello'));
  resp.readMessage(msg1);
  const msg2 = resp.writeMessage(Buffer.from('responder hello'));
  init.readMessage(msg2);
  const msg3 = init.writeMessage(Buffer.from('initiator hello'));
  return {init, resp, msg1, msg2, msg3};
}
