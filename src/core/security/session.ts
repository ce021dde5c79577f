import type {CipherState} from './noise/index.js';
import {ReplayWindow} from './replay-window.js';

/** Limits after which a session must be replaced by a fresh handshake (forward secrecy, nonce safety). */
export interface RekeyLimits {
  /** Start a new handshake after this many messages sent on the session. */
  rekeyAfterMessages: number;
  /** Start a new handshake once the session is this old. */
  rekeyAfterMs: number;
  /** Refuse to send or receive on a session past this age (the new one must have taken over). */
  rejectAfterMs: number;
}

export const DEFAULT_REKEY: RekeyLimits = {
  rekeyAfterMessages: 2 ** 30,
  rekeyAfterMs: 120_000,
  rejectAfterMs: 180_000,
};

/** Hard ceiling on counters: far below 2^53 so counters stay exact JS numbers, and below 2^64-1 (Noise's reserved nonce). */
export const MAX_COUNTER = 2 ** 48;

export type OpenResult = {ok: true; plaintext: Buffer} | {ok: false; reason: 'replayed' | 'unauthenticated' | 'expired'};

/**
 * An established transport session: the two directional keys from Noise split(), an explicit send
 * counter and a receive replay window. Each message carries its counter on the wire, so loss and
 * reordering inside the window are tolerated.
 */
export class TransportSession {
  private sendCounter = 0;
  private readonly window = new ReplayWindow();

  constructor(
    private readonly send: CipherState,
    private readonly recv: CipherState,
    readonly createdAtMs: number,
    private readonly limits: RekeyLimits = DEFAULT_REKEY,
  ) {}

  get messagesSent(): number {
    return this.sendCounter;
  }

  /** True when the owner should start a replacement handshake. */
  wantsRekey(nowMs: number): boolean {
    return this.sendCounter >= this.limits.rekeyAfterMessages || nowMs - this.createdAtMs >= this.limits.rekeyAfterMs;
  }

  expired(nowMs: number): boolean {
    return nowMs - this.createdAtMs >= this.limits.rejectAfterMs || this.sendCounter >= MAX_COUNTER;
  }

  /** Reserves the next counter; the caller builds the header (which is the AAD) around it. */
  nextCounter(): number {
    return this.sendCounter++;
  }

  /** Encrypts under `counter` with `aad` (plaintext whole or in pieces); with `prefix`, returns prefix || ciphertext in one buffer. */
  seal(counter: number, aad: Buffer, plaintext: Buffer | readonly Buffer[], prefix?: Buffer): Buffer {
    return this.send.encryptWithNonce(BigInt(counter), aad, plaintext, prefix);
  }

  open(counter: number, aad: Buffer, ciphertext: Buffer, nowMs: number): OpenResult {
    if (this.expired(nowMs)) return {ok: false, reason: 'expired'};
    if (counter >= MAX_COUNTER || !this.window.check(counter)) return {ok: false, reason: 'replayed'};
    let plaintext: Buffer;
    try {
      plaintext = this.recv.decryptWithNonce(BigInt(counter), aad, ciphertext);
    } catch {
      return {ok: false, reason: 'unauthenticated'};
    }
    this.window.accept(counter);
    return {ok: true, plaintext};
  }
}
