import {CipherState} from './cipher-state.js';
import {DHLEN, MAX_MESSAGE_LEN, TAGLEN} from './constants.js';
import {dh, generateKeyPair, keyPairFromPrivate, type KeyPair} from './dh.js';
import {NoiseError} from './errors.js';
import {parseProtocolName, type HandshakePattern, type Token} from './patterns.js';
import {SymmetricState} from './symmetric-state.js';

const PSKLEN = 32;

/** Parameters of a handshake (spec 5.3 Initialize()). */
export interface HandshakeInit {
  /** Full protocol name, e.g. 'Noise_XXpsk3_25519_AESGCM_SHA256'; only the 25519_AESGCM_SHA256 suite is accepted. */
  protocolName: string;
  initiator: boolean;
  /** Data both sides must agree on; it is bound into the handshake hash. Defaults to empty. */
  prologue?: Buffer;
  /** Local static key pair; required exactly when the pattern sends or pre-declares it. */
  s?: KeyPair;
  /** Local ephemeral key pair. ONLY for test vectors: reusing an ephemeral destroys forward secrecy. */
  e?: KeyPair;
  /** Remote static public key known in advance; required exactly when the pattern has it as a pre-message. */
  rs?: Buffer;
  /** Pre-shared keys, 32 bytes each, consumed in order by the psk tokens; the count must match. */
  psks?: Buffer[];
}

function copyKeyPair(kp: KeyPair, what: string): KeyPair {
  if (!Buffer.isBuffer(kp.publicKey) || !Buffer.isBuffer(kp.privateKey) || kp.privateKey.length !== DHLEN) {
    throw new NoiseError(`${what} key pair must hold 32-byte buffers`);
  }
  const derived = keyPairFromPrivate(kp.privateKey);
  // A mismatched pair would make the peer authenticate a key we cannot actually use.
  if (!derived.publicKey.equals(kp.publicKey)) throw new NoiseError(`${what} public key does not match its private key`);
  return derived;
}

function sendsStatic(pattern: HandshakePattern, initiator: boolean): boolean {
  return pattern.messages.some((tokens, i) => i % 2 === (initiator ? 0 : 1) && tokens.includes('s'));
}

/**
 * Noise HandshakeState (spec 5.3) driven by a pattern table: the same interpreter runs every
 * one-way, fundamental, deferred and psk pattern. Messages alternate strictly, initiator first.
 * After any failure while processing a message the handshake is aborted: every later call throws
 * NoiseError, because the transcript hash has already absorbed the bad input.
 */
export class HandshakeState {
  private readonly pattern: HandshakePattern;
  private readonly initiator: boolean;
  private readonly symmetric: SymmetricState;
  private readonly s: KeyPair | undefined;
  private readonly presetE: KeyPair | undefined;
  private e: KeyPair | undefined;
  private rs: Buffer | undefined;
  private re: Buffer | undefined;
  private readonly psks: Buffer[];
  private index = 0;
  private failed = false;
  private splitDone = false;

  constructor(init: HandshakeInit) {
    this.pattern = parseProtocolName(init.protocolName);
    this.initiator = init.initiator === true;
    const pattern = this.pattern;
    const me = this.initiator;

    const localPre = me ? pattern.preInitiator : pattern.preResponder;
    const remotePre = me ? pattern.preResponder : pattern.preInitiator;
    const needS = localPre.length > 0 || sendsStatic(pattern, me);
    if (needS !== (init.s !== undefined)) {
      throw new NoiseError(needS ? 'pattern requires a local static key (s)' : 'pattern does not use a local static key (s)');
    }
    this.s = init.s === undefined ? undefined : copyKeyPair(init.s, 'static');
    this.presetE = init.e === undefined ? undefined : copyKeyPair(init.e, 'ephemeral');

    // Refusing an unused rs matters: a caller pinning the peer's key in a pattern that transmits it
    // would otherwise believe the peer is authenticated against that pin when it is not.
    const needRs = remotePre.length > 0;
    if (needRs !== (init.rs !== undefined)) {
      throw new NoiseError(needRs ? 'pattern requires the remote static key (rs)' : 'pattern does not take a pre-known remote static key (rs)');
    }
    if (init.rs !== undefined) {
      if (!Buffer.isBuffer(init.rs) || init.rs.length !== DHLEN) throw new NoiseError('remote static key must be 32 bytes');
      this.rs = Buffer.from(init.rs);
    }

    const pskTokens = pattern.messages.flat().filter((t) => t === 'psk').length;
    const psks = init.psks ?? [];
    if (psks.length !== pskTokens) throw new NoiseError(`pattern needs ${pskTokens} psk(s), got ${psks.length}`);
    if (psks.some((k) => !Buffer.isBuffer(k) || k.length !== PSKLEN)) throw new NoiseError(`each psk must be ${PSKLEN} bytes`);
    this.psks = psks.map((k) => Buffer.from(k));

    this.symmetric = new SymmetricState(init.protocolName);
    this.symmetric.mixHash(init.prologue ?? Buffer.alloc(0));
    // Pre-messages are hashed initiator first, whichever side we are.
    const initiatorStatic = me ? this.s?.publicKey : this.rs;
    const responderStatic = me ? this.rs : this.s?.publicKey;
    if (pattern.preInitiator.length > 0 && initiatorStatic !== undefined) this.symmetric.mixHash(initiatorStatic);
    if (pattern.preResponder.length > 0 && responderStatic !== undefined) this.symmetric.mixHash(responderStatic);
  }

  /** True once every handshake message has been written or read. */
  isComplete(): boolean {
    return this.index >= this.pattern.messages.length;
  }

  /** True when the next handshake message is ours to write (false once complete or aborted). */
  isMyTurn(): boolean {
    return !this.failed && !this.isComplete() && (this.index % 2 === 0) === this.initiator;
  }

  /** The transcript hash h; after completion it uniquely identifies the session (channel binding). */
  handshakeHash(): Buffer {
    return this.symmetric.handshakeHash();
  }

  /** The peer's static public key, once pre-known or received. */
  remoteStatic(): Buffer | undefined {
    return this.rs === undefined ? undefined : Buffer.from(this.rs);
  }

  /** Builds the next handshake message carrying `payload`; refuses a result over 65535 bytes before touching state. */
  writeMessage(payload: Buffer): Buffer {
    this.checkUsable();
    if (!this.isMyTurn()) throw new NoiseError('not our turn to write a handshake message');
    const tokens = this.pattern.messages[this.index] ?? [];
    if (this.messageLength(tokens, payload.length) > MAX_MESSAGE_LEN) throw new NoiseError('handshake message would exceed 65535 bytes');
    return this.guard(() => {
      const out: Buffer[] = [];
      for (const token of tokens) {
        if (token === 'e') {
          const e = this.presetE ?? generateKeyPair();
          this.e = e;
          out.push(Buffer.from(e.publicKey));
          this.mixEphemeral(e.publicKey);
        } else if (token === 's') {
          out.push(this.symmetric.encryptAndHash(this.need(this.s, 's').publicKey));
        } else {
          this.mixToken(token);
        }
      }
      out.push(this.symmetric.encryptAndHash(payload));
      this.index++;
      return Buffer.concat(out);
    });
  }

  /** Processes the peer's next handshake message and returns its payload; throws NoiseError on any bad input. */
  readMessage(message: Buffer): Buffer {
    this.checkUsable();
    if (this.isComplete() || this.isMyTurn()) throw new NoiseError('not expecting a handshake message');
    const tokens = this.pattern.messages[this.index] ?? [];
    return this.guard(() => {
      if (!Buffer.isBuffer(message)) throw new NoiseError('message must be a Buffer');
      if (message.length > MAX_MESSAGE_LEN) throw new NoiseError('handshake message exceeds 65535 bytes');
      let offset = 0;
      const take = (n: number): Buffer => {
        if (message.length - offset < n) throw new NoiseError('handshake message too short');
        const part = message.subarray(offset, offset + n);
        offset += n;
        return part;
      };
      for (const token of tokens) {
        if (token === 'e') {
          this.re = Buffer.from(take(DHLEN));
          this.mixEphemeral(this.re);
        } else if (token === 's') {
          const len = DHLEN + (this.symmetric.hasKey() ? TAGLEN : 0);
          this.rs = Buffer.from(this.symmetric.decryptAndHash(take(len)));
        } else {
          this.mixToken(token);
        }
      }
      const rest = message.subarray(offset);
      if (this.symmetric.hasKey() && rest.length < TAGLEN) throw new NoiseError('handshake message too short');
      const payload = this.symmetric.decryptAndHash(rest);
      this.index++;
      return payload;
    });
  }

  /**
   * The transport CipherStates, oriented for this side (initiator: send=c1, recv=c2). Allowed once,
   * after completion: a second pair would repeat keys and nonces. For one-way patterns only the
   * initiator's send / responder's recv may be used.
   */
  split(): {send: CipherState; recv: CipherState} {
    this.checkUsable();
    if (!this.isComplete()) throw new NoiseError('handshake not complete');
    if (this.splitDone) throw new NoiseError('split() may be called only once');
    this.splitDone = true;
    const [c1, c2] = this.symmetric.split();
    return this.initiator ? {send: c1, recv: c2} : {send: c2, recv: c1};
  }

  private checkUsable(): void {
    if (this.failed) throw new NoiseError('handshake aborted after an earlier failure');
  }

  /** Runs a state-mutating step; any failure aborts the handshake and surfaces as NoiseError. */
  private guard<T>(step: () => T): T {
    try {
      return step();
    } catch (err) {
      this.failed = true;
      if (err instanceof NoiseError) throw err;
      throw new NoiseError('handshake failed', {cause: err});
    }
  }

  /** Exact size of the message `tokens` would produce, tracking when encryption switches on. */
  private messageLength(tokens: readonly Token[], payloadLength: number): number {
    let keyed = this.symmetric.hasKey();
    let len = 0;
    for (const token of tokens) {
      if (token === 'e') {
        len += DHLEN;
        if (this.pattern.psk) keyed = true;
      } else if (token === 's') {
        len += DHLEN + (keyed ? TAGLEN : 0);
      } else {
        keyed = true;
      }
    }
    return len + payloadLength + (keyed ? TAGLEN : 0);
  }

  private mixEphemeral(publicKey: Buffer): void {
    this.symmetric.mixHash(publicKey);
    // psk patterns also mix e into the key, so the psk-derived key is never used without fresh randomness.
    if (this.pattern.psk) this.symmetric.mixKey(publicKey);
  }

  /** DH and psk tokens: identical for reader and writer once roles are resolved. */
  private mixToken(token: Exclude<Token, 'e' | 's'>): void {
    const me = this.initiator;
    switch (token) {
      case 'ee':
        return this.mixDh(this.e, this.re);
      case 'es':
        return me ? this.mixDh(this.e, this.rs) : this.mixDh(this.s, this.re);
      case 'se':
        return me ? this.mixDh(this.s, this.re) : this.mixDh(this.e, this.rs);
      case 'ss':
        return this.mixDh(this.s, this.rs);
      case 'psk': {
        const psk = this.psks.shift();
        return this.symmetric.mixKeyAndHash(this.need(psk, 'psk'));
      }
    }
  }

  private mixDh(local: KeyPair | undefined, remote: Buffer | undefined): void {
    this.symmetric.mixKey(dh(this.need(local, 'local key').privateKey, this.need(remote, 'remote key')));
  }

  private need<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new NoiseError(`missing ${what} for this pattern`);
    return value;
  }
}
