import * as crypto from 'node:crypto';

import * as zmq from 'zeromq';

import {SwarmError, TimeoutError, UnreachableError} from '../errors.js';
import {processSecrets} from '../log/redactor.js';
import type {Logger} from '../log/logger.js';
import type {AdmissionPolicy} from '../security/admission.js';
import {isAdmitted} from '../security/admission.js';
import type {AuthenticatedPeer, Firewall, PeerRole} from '../security/firewall.js';
import type {Identity} from '../security/identity.js';
import {fingerprintOf, idOf} from '../security/identity.js';
import type {KeyPair} from '../security/noise/index.js';
import {generateKeyPair, HandshakeState} from '../security/noise/index.js';
import type {RekeyLimits} from '../security/session.js';
import {DEFAULT_REKEY, TransportSession} from '../security/session.js';
import type {Envelope} from './envelope.js';
import {batchPieces, decodeBatch, decodeEnvelope, encodeEnvelopePieces} from './envelope.js';
import type {EncodedEnvelope} from './envelope.js';
import {DATA_HEADER_BYTES, decodeFrame, encodeDataHeader, encodeHandshake, encodeReset, FrameKind} from './frame.js';
import type {Frame} from './frame.js';
import type {Capacity} from './hello.js';
import {decodeHello, encodeHello, signStatic, verifyStatic} from './hello.js';
import {SocketSender} from './socket-sender.js';

export const NOISE_PROTOCOL = 'Noise_XXpsk3_25519_AESGCM_SHA256';
/** Mixed into every handshake: peers of another wire version fail the handshake instead of misparsing. */
const PROLOGUE = Buffer.from('swarm/voyager/1');
const EMPTY: Buffer = Buffer.alloc(0);
/** Internal envelope type the responder sends first, so the initiator knows the PSK matched. */
const CONFIRM_TYPE = 'session.confirm';

/** What a link knows about the authenticated peer behind it. */
export interface PeerInfo {
  id: string;
  name: string;
  role: PeerRole;
  fingerprint: string;
  /** Raw Ed25519 identity key, hex. */
  identityKey: string;
  /** Where the peer accepts links ("" for clients). */
  listen: string;
  labels: Record<string, string>;
  capacity: Capacity;
}

export type Handler = (env: Envelope, peer: PeerInfo) => unknown | Promise<unknown>;

export interface VoyagerInit {
  role: PeerRole;
  name: string;
  labels?: Record<string, string>;
  capacity?: Capacity;
  /** Bind a ROUTER here to accept links; omit for a client that only dials. */
  bind?: {host: string; port: number};
  /** Listen address announced to peers; default tcp://<bind host>:<bound port>. */
  advertise?: string;
  /** Largest frame accepted or sent; larger ones are dropped as `oversized`. */
  maxFrameBytes?: number;
  /** Frames queued per socket before sends are dropped as `backpressure`. */
  maxQueuedFrames?: number;
  /** Bytes of envelopes waiting to be coalesced per session before sends are dropped as `backpressure`. */
  maxOutboxBytes?: number;
  /**
   * Coalesce envelopes queued in the same tick into one frame (default true). Off, every envelope is
   * its own frame and AEAD operation: the benchmark uses it to show the per-message cost.
   */
  coalesce?: boolean;
  sendHighWaterMark?: number;
  receiveHighWaterMark?: number;
  handshakeTimeoutMs?: number;
  /** Most responder handshakes in flight at once; beyond, new ones are dropped. */
  maxPendingHandshakes?: number;
  maxPendingRequests?: number;
  requestTimeoutMs?: number;
  rekey?: RekeyLimits;
  /** Period of housekeeping (handshake timeouts, rekey, retries). */
  tickMs?: number;
}

export interface VoyagerComponents {
  identity: Identity;
  admission: AdmissionPolicy;
  firewall: Firewall;
  log: Logger;
  /** Wall clock in ms; injected so tests can drive session ages. */
  clock?: () => number;
}

export interface VoyagerEvents {
  /** A session with a peer was authenticated (outbound: once confirmed; inbound: once msg 3 verified). */
  onPeerUp?: (peer: PeerInfo, direction: 'in' | 'out') => void;
}

export interface TransportStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  handshakeTimeouts: number;
  rekeys: number;
  resetsSent: number;
  sessionsIn: number;
  linksOut: number;
}

interface Route {
  session: TransportSession;
  sid: Buffer;
  peer: PeerInfo;
  /** The peer's Noise static key: fresh per process, so a new one means the peer restarted. */
  remoteStatic: Buffer;
  /** Sends a frame back the way this session came. */
  write(frame: Buffer): boolean;
  /** Encoded envelopes waiting for this tick's flush (coalesced into as few frames as fit). */
  outbox: EncodedEnvelope[];
  outboxBytes: number;
  flushScheduled: boolean;
}

function newRoute(sid: Buffer, peer: PeerInfo, remoteStatic: Buffer, session: TransportSession, write: (frame: Buffer) => boolean): Route {
  return {sid: Buffer.from(sid), peer, remoteStatic: Buffer.from(remoteStatic), session, write, outbox: [], outboxBytes: 0, flushScheduled: false};
}

interface PendingOut {
  sid: Buffer;
  hs: HandshakeState;
  startedMs: number;
  /** Set once msg 3 is sent; the link waits for the responder's confirm on it. */
  route?: Route;
}

interface OutLink {
  address: string;
  dealer: zmq.Dealer;
  sender: SocketSender;
  current?: Route;
  previous?: Route;
  pending?: PendingOut;
  failures: number;
  nextAttemptMs: number;
  lastResetMs: number;
  /** Set when the link reached ourselves (e.g. mDNS echo): never retried. */
  self: boolean;
}

interface PendingIn {
  hs: HandshakeState;
  routingId: Buffer;
  startedMs: number;
}

interface PendingRequest {
  peerId: string;
  resolve(body: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export type ReplyBody = {ok: true; result: unknown} | {ok: false; error: {code: string; message: string}};

/** A request the remote handler refused; carries the remote error's code. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Voyager: the secure peer bus. One ROUTER bound for inbound links, one DEALER per outbound link.
 * Every link is a Noise XXpsk3 session (join secret as PSK, identities bound by Ed25519 signature);
 * data frames carry explicit counters checked by a replay window. Everything that fails on the way
 * in is reported to the firewall; only admitted envelopes reach a handler.
 *
 * Messages to a peer go over our outbound link when it is up, else back over the peer's inbound
 * session; replies always go back over the session the request came on.
 */
export class Voyager {
  readonly stats: TransportStats = {
    framesIn: 0,
    framesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    handshakesCompleted: 0,
    handshakesFailed: 0,
    handshakeTimeouts: 0,
    rekeys: 0,
    resetsSent: 0,
    sessionsIn: 0,
    linksOut: 0,
  };

  private readonly cfg: Required<Omit<VoyagerInit, 'bind' | 'advertise' | 'labels' | 'capacity'>> &
    Pick<VoyagerInit, 'bind' | 'advertise'>;
  private readonly clock: () => number;
  private readonly staticKey: KeyPair = generateKeyPair();
  private router?: zmq.Router;
  private routerSender?: SocketSender;
  private readonly links = new Map<string, OutLink>();
  private readonly inbound = new Map<string, Route>();
  private readonly pendingIn = new Map<string, PendingIn>();
  /** Latest inbound route per peer id, for messages to peers we have no outbound link to. */
  private readonly inboundByPeer = new Map<string, Route>();
  private readonly handlers = new Map<string, Handler>();
  private readonly requests = new Map<string, PendingRequest>();
  private readonly reqPrefix = crypto.randomBytes(4).toString('hex');
  private reqSeq = 0;
  private ticker?: NodeJS.Timeout;
  private listenAddress = '';
  private helloPayload: Buffer = EMPTY;
  private stopped = false;
  private readonly labels: Record<string, string>;
  private readonly capacity: Capacity;

  constructor(
    private readonly components: VoyagerComponents,
    init: VoyagerInit,
    private readonly events: VoyagerEvents = {},
  ) {
    this.clock = components.clock ?? Date.now;
    this.labels = init.labels ?? {};
    this.capacity = init.capacity ?? {cores: 0, memoryBytes: 0, gpus: 0};
    this.cfg = {
      role: init.role,
      name: init.name,
      bind: init.bind,
      advertise: init.advertise,
      maxFrameBytes: init.maxFrameBytes ?? 1024 * 1024,
      maxQueuedFrames: init.maxQueuedFrames ?? 20_000,
      maxOutboxBytes: init.maxOutboxBytes ?? 16 * 1024 * 1024,
      coalesce: init.coalesce ?? true,
      sendHighWaterMark: init.sendHighWaterMark ?? 10_000,
      receiveHighWaterMark: init.receiveHighWaterMark ?? 10_000,
      handshakeTimeoutMs: init.handshakeTimeoutMs ?? 5000,
      maxPendingHandshakes: init.maxPendingHandshakes ?? 1024,
      maxPendingRequests: init.maxPendingRequests ?? 10_000,
      requestTimeoutMs: init.requestTimeoutMs ?? 5000,
      rekey: init.rekey ?? DEFAULT_REKEY,
      tickMs: init.tickMs ?? 250,
    };
  }

  get identity(): Identity {
    return this.components.identity;
  }

  /** The address peers should dial ("" for a client). Valid after start(). */
  get listen(): string {
    return this.listenAddress;
  }

  handle(type: string, handler: Handler): void {
    this.handlers.set(type, handler);
  }

  hasHandler(type: string): boolean {
    return this.handlers.has(type) || type === CONFIRM_TYPE;
  }

  async start(): Promise<void> {
    if (this.cfg.bind) {
      const router = new zmq.Router({
        mandatory: true,
        linger: 200,
        sendHighWaterMark: this.cfg.sendHighWaterMark,
        receiveHighWaterMark: this.cfg.receiveHighWaterMark,
        sendTimeout: 1000,
        // zmq cuts links that send far more than the frame limit before we would even see them;
        // frames between the two limits reach us and are counted as oversized.
        maxMessageSize: this.cfg.maxFrameBytes * 4,
      });
      // bind() runs on a libuv worker thread; that is safe only because nothing else touches this
      // socket yet (the receive loop starts below). See stop() for why unbind is synchronous.
      await router.bind(`tcp://${this.cfg.bind.host}:${this.cfg.bind.port}`);
      this.router = router;
      this.routerSender = new SocketSender(router, this.cfg.maxQueuedFrames, (err) => this.onSendFailure(err));
      const bound = new URL(router.lastEndpoint ?? `tcp://${this.cfg.bind.host}:${this.cfg.bind.port}`);
      this.listenAddress = this.cfg.advertise ?? `tcp://${this.cfg.bind.host}:${bound.port}`;
      void this.routerLoop(router);
    }
    this.helloPayload = encodeHello({
      key: this.identity.publicKey,
      sig: signStatic(this.identity, this.staticKey.publicKey),
      role: this.cfg.role,
      name: this.cfg.name,
      listen: this.listenAddress,
      labels: this.labels,
      cap: this.capacity,
    });
    this.ticker = setInterval(() => this.tick(), this.cfg.tickMs);
  }

  /** The port the ROUTER is bound to (useful with port 0). */
  get boundPort(): number | undefined {
    if (!this.router?.lastEndpoint) return undefined;
    return Number(new URL(this.router.lastEndpoint).port);
  }

  /** Dials `address` (tcp://host:port) and keeps a secure link to it; idempotent. */
  connect(address: string): void {
    if (this.stopped || this.links.has(address) || address === this.listenAddress) return;
    const dealer = new zmq.Dealer({
      linger: 200,
      // Don't queue frames for a peer that is not connected: they would be stale (old session) when it returns.
      immediate: true,
      sendHighWaterMark: this.cfg.sendHighWaterMark,
      receiveHighWaterMark: this.cfg.receiveHighWaterMark,
      sendTimeout: 1000,
      maxMessageSize: this.cfg.maxFrameBytes * 4,
      reconnectInterval: 100,
      reconnectMaxInterval: 2000,
    });
    dealer.connect(address);
    const link: OutLink = {
      address,
      dealer,
      sender: new SocketSender(dealer, this.cfg.maxQueuedFrames, (err) => this.onSendFailure(err)),
      failures: 0,
      nextAttemptMs: 0,
      lastResetMs: 0,
      self: false,
    };
    this.links.set(address, link);
    this.stats.linksOut = this.links.size;
    void this.dealerLoop(link);
    this.startHandshake(link);
  }

  async disconnect(address: string): Promise<void> {
    const link = this.links.get(address);
    if (!link) return;
    this.links.delete(address);
    this.stats.linksOut = this.links.size;
    await link.sender.close();
    link.dealer.close();
  }

  /** Addresses we dial, with the peer behind each once known. */
  linkStates(): {address: string; up: boolean; peerId?: string; self: boolean}[] {
    return [...this.links.values()].map((l) => ({
      address: l.address,
      up: l.current !== undefined,
      self: l.self,
      ...(l.current ? {peerId: l.current.peer.id} : {}),
    }));
  }

  /** Resolves with the peer once the link to `address` is up; rejects on timeout/abort. */
  async waitForLink(address: string, options: {timeoutMs: number; signal?: AbortSignal}): Promise<PeerInfo> {
    const deadline = this.clock() + options.timeoutMs;
    for (;;) {
      const link = this.links.get(address);
      if (link?.current) return link.current.peer;
      if (options.signal?.aborted) throw new TimeoutError('aborted while waiting for link');
      if (this.clock() >= deadline) {
        throw new UnreachableError(`no authenticated link to ${address} within ${options.timeoutMs}ms; is a node listening there with the same join secret?`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Whether a message to this peer can be sent now. */
  canReach(peerId: string): boolean {
    return this.routeTo(peerId) !== undefined;
  }

  /** Fire-and-forget; false when the peer has no session or the frame was dropped. */
  send(peerId: string, type: string, body: unknown): boolean {
    const route = this.routeTo(peerId);
    if (!route) return false;
    return this.sendOn(route, {v: 1, type, id: this.nextRequestId(), from: this.identity.id, to: peerId, ts: this.clock(), body});
  }

  /**
   * Sends a request and resolves with the handler's result; typed errors on every failure. A large
   * binary in `body` is encrypted from where it lies, in the microtask after this call: the caller
   * must not change it before then (see encodeEnvelopePieces).
   */
  request(peerId: string, type: string, body: unknown, options: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<unknown> {
    const route = this.routeTo(peerId);
    if (!route) return Promise.reject(new UnreachableError(`no session with peer ${peerId.slice(0, 12)}`));
    if (this.requests.size >= this.cfg.maxPendingRequests) {
      return Promise.reject(new UnreachableError('too many requests in flight; retry later'));
    }
    const id = this.nextRequestId();
    const timeoutMs = options.timeoutMs ?? this.cfg.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.requests.delete(id);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(new TimeoutError(`request ${type} aborted`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`peer ${peerId.slice(0, 12)} did not answer ${type} within ${timeoutMs}ms`));
      }, timeoutMs);
      options.signal?.addEventListener('abort', onAbort, {once: true});
      this.requests.set(id, {
        peerId,
        resolve: (b) => {
          done();
          resolve(b);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer,
      });
      const env: Envelope = {v: 1, type, id, from: this.identity.id, to: peerId, ts: this.clock(), body};
      if (!this.sendOn(route, env)) this.requests.get(id)?.reject(new UnreachableError(`could not send ${type}: queue full or frame too large`));
    });
  }

  /** Peers with a live session in either direction. */
  connectedPeers(): PeerInfo[] {
    const seen = new Map<string, PeerInfo>();
    for (const l of this.links.values()) if (l.current) seen.set(l.current.peer.id, l.current.peer);
    for (const r of this.inboundByPeer.values()) if (!seen.has(r.peer.id)) seen.set(r.peer.id, r.peer);
    return [...seen.values()];
  }

  /** Stops housekeeping, fails pending requests, closes every socket (bounded linger). Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const r of [...this.requests.values()]) r.reject(new UnreachableError('transport stopped'));
    const links = [...this.links.values()];
    this.links.clear();
    // Let in-flight sends finish (bounded by sendTimeout) before closing their sockets.
    await Promise.all([...links.map((l) => l.sender.close()), this.routerSender?.close()]);
    for (const link of links) link.dealer.close();
    const router = this.router;
    if (router) {
      // Unbind before closing so the listener is gone when stop() resolves (a restart can rebind).
      // Synchronously: zeromq.js runs the async unbind() on a libuv worker thread while the receive
      // loop's poll callback may read the same socket on the main thread; libzmq sockets are not
      // thread-safe, and that race aborts the process (pipe.cpp:355) or segfaults it.
      unbindQuietly(router);
      router.close();
    }
  }

  /** Waits until queued outbound frames are handed to zeromq, at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const busy = (): boolean => (this.routerSender?.queued ?? 0) > 0 || [...this.links.values()].some((l) => l.sender.queued > 0);
    while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  // ---- sending -------------------------------------------------------------------------------------

  private routeTo(peerId: string): Route | undefined {
    for (const l of this.links.values()) if (l.current?.peer.id === peerId) return l.current;
    return this.inboundByPeer.get(peerId);
  }

  private nextRequestId(): string {
    return `${this.reqPrefix}${(this.reqSeq++).toString(36)}`;
  }

  /**
   * Queues an envelope on a session. Envelopes queued in the same tick are coalesced into as few
   * frames as fit the frame limit (one AEAD operation each) by `flush`, scheduled as a microtask, so
   * a lone request still leaves at once. False when the envelope can never fit a frame (`oversized`)
   * or the session's outbox is full (`backpressure`).
   */
  private sendOn(route: Route, env: Envelope): boolean {
    if (route.session.expired(this.clock())) return false;
    const encoded = encodeEnvelopePieces(env);
    const framed = 4 + encoded.length;
    if (DATA_HEADER_BYTES + framed + 16 > this.cfg.maxFrameBytes) {
      this.components.firewall.drop('oversized', env.to || 'self', `outbound ${env.type} ${encoded.length}B`);
      return false;
    }
    if (route.outboxBytes + framed > this.cfg.maxOutboxBytes) {
      this.components.firewall.drop('backpressure', env.to || 'self', 'outbox full');
      return false;
    }
    route.outbox.push(encoded);
    route.outboxBytes += framed;
    if (!this.cfg.coalesce) {
      this.flush(route);
    } else if (!route.flushScheduled) {
      route.flushScheduled = true;
      queueMicrotask(() => this.flush(route));
    }
    return true;
  }

  private flush(route: Route): void {
    route.flushScheduled = false;
    const budget = this.cfg.maxFrameBytes - DATA_HEADER_BYTES - 16;
    while (route.outbox.length > 0) {
      let n = 0;
      let bytes = 0;
      while (n < route.outbox.length && bytes + 4 + route.outbox[n]!.length <= budget) bytes += 4 + route.outbox[n++]!.length;
      const parts = route.outbox.splice(0, n);
      route.outboxBytes -= bytes;
      const counter = route.session.nextCounter();
      const header = encodeDataHeader(route.sid, counter);
      // The header is both the AAD and the frame's prefix: one allocation for the whole frame, and
      // the envelopes are encrypted where they lie (no batch buffer in between).
      const frame = route.session.seal(counter, header, batchPieces(parts), header);
      this.stats.framesOut++;
      this.stats.bytesOut += frame.length;
      route.write(frame);
    }
  }

  private onSendFailure(err?: unknown): void {
    const code = (err as {code?: string} | undefined)?.code;
    this.components.firewall.drop('backpressure', 'local', code ?? 'queue full');
  }

  // ---- receiving -----------------------------------------------------------------------------------

  private async routerLoop(router: zmq.Router): Promise<void> {
    try {
      for await (const parts of router) {
        const [routingId, frame] = parts;
        if (parts.length !== 2 || !routingId || !frame) {
          this.components.firewall.drop('malformed', 'router', `${parts.length} parts`);
          continue;
        }
        this.onRouterFrame(routingId, frame);
      }
    } catch (err) {
      if (!this.stopped) this.components.log.error('router loop ended', {err: String(err)});
    }
  }

  private async dealerLoop(link: OutLink): Promise<void> {
    try {
      for await (const parts of link.dealer) {
        if (parts.length !== 1 || !parts[0]) {
          this.components.firewall.drop('malformed', link.address, `${parts.length} parts`);
          continue;
        }
        this.onDealerFrame(link, parts[0]);
      }
    } catch (err) {
      if (!this.stopped && this.links.get(link.address) === link) this.components.log.warn('link loop ended', {address: link.address, err: String(err)});
    }
  }

  private decode(buf: Buffer, origin: string): Frame | undefined {
    this.stats.framesIn++;
    this.stats.bytesIn += buf.length;
    const frame = decodeFrame(buf, this.cfg.maxFrameBytes);
    if (typeof frame === 'string') {
      this.components.firewall.drop(frame, origin, `${buf.length}B`);
      return undefined;
    }
    return frame;
  }

  private onRouterFrame(routingId: Buffer, buf: Buffer): void {
    const origin = `rid:${routingId.toString('hex').slice(0, 16)}`;
    const frame = this.decode(buf, origin);
    if (!frame) return;
    const sidHex = frame.sid.toString('hex');
    switch (frame.kind) {
      case FrameKind.HandshakeInit:
        return this.respondInit(routingId, frame.sid, frame.noise, origin);
      case FrameKind.HandshakeFinal:
        return this.respondFinal(routingId, frame.sid, frame.noise, origin);
      case FrameKind.Data: {
        const route = this.inbound.get(sidHex);
        if (!route) {
          this.components.firewall.drop('unauthenticated', origin, 'unknown session');
          // Tell an honest peer that lost its session (we restarted) to handshake again.
          this.routerSender?.send([routingId, encodeReset(frame.sid)]);
          this.stats.resetsSent++;
          return;
        }
        return this.onData(route, frame.counter, frame.aad, frame.ciphertext);
      }
      default:
        this.components.firewall.drop('malformed', origin, `kind ${frame.kind} on router`);
    }
  }

  private onDealerFrame(link: OutLink, buf: Buffer): void {
    const frame = this.decode(buf, link.address);
    if (!frame) return;
    switch (frame.kind) {
      case FrameKind.HandshakeResponse:
        return this.initiatorFinish(link, frame.sid, frame.noise);
      case FrameKind.Data: {
        const route = [link.pending?.route, link.current, link.previous].find((r) => r?.sid.equals(frame.sid));
        if (!route) {
          this.components.firewall.drop('unauthenticated', link.address, 'unknown session');
          return;
        }
        return this.onData(route, frame.counter, frame.aad, frame.ciphertext, link);
      }
      case FrameKind.Reset: {
        // Unauthenticated hint: at most one re-handshake a second per link, so forged resets cost little.
        const now = this.clock();
        if (link.current?.sid.equals(frame.sid) && !link.pending && now - link.lastResetMs > 1000) {
          link.lastResetMs = now;
          this.startHandshake(link);
        }
        return;
      }
      default:
        this.components.firewall.drop('malformed', link.address, `kind ${frame.kind} on dealer`);
    }
  }

  private onData(route: Route, counter: number, aad: Buffer, ct: Buffer, link?: OutLink): void {
    const res = route.session.open(counter, aad, ct, this.clock());
    if (!res.ok) {
      this.components.firewall.drop(res.reason, route.peer.id);
      return;
    }
    const parts = decodeBatch(res.plaintext);
    if (!parts) {
      this.components.firewall.drop('malformed', route.peer.id, 'batch');
      return;
    }
    for (const part of parts) this.onEnvelope(route, part, link);
  }

  private onEnvelope(route: Route, encoded: Buffer, link?: OutLink): void {
    const env = decodeEnvelope(encoded);
    if (!env) {
      this.components.firewall.drop('malformed', route.peer.id, 'envelope');
      return;
    }
    const peer: AuthenticatedPeer = route.peer;
    if (!this.components.firewall.admit(peer, env)) return;
    if (env.type === CONFIRM_TYPE) {
      if (link && link.pending?.route === route) this.promote(link);
      return;
    }
    if (env.type === 'reply') {
      const pending = this.requests.get(env.id);
      if (pending && pending.peerId === route.peer.id) settleReply(pending, env.body);
      return;
    }
    this.dispatch(route, env);
  }

  /** Runs the handler; a synchronous result is answered without a promise round (hot path). */
  private dispatch(route: Route, env: Envelope): void {
    const handler = this.handlers.get(env.type)!;
    let result: unknown;
    try {
      result = handler(env, route.peer);
    } catch (err) {
      this.replyError(route, env, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (r: unknown) => this.replyOk(route, env, r),
        (err: unknown) => this.replyError(route, env, err),
      );
    } else {
      this.replyOk(route, env, result);
    }
  }

  /** A handler that returns undefined sends no reply (fire-and-forget messages). */
  private replyOk(route: Route, env: Envelope, result: unknown): void {
    if (result !== undefined) this.reply(route, env, {ok: true, result});
  }

  private replyError(route: Route, env: Envelope, err: unknown): void {
    const known = err instanceof SwarmError;
    if (!known) this.components.log.error('handler failed', {type: env.type, err: String(err)});
    this.reply(route, env, {ok: false, error: {code: known ? err.code : 'internal', message: known ? processSecrets.redact(err.message) : 'internal error'}});
  }

  private reply(route: Route, env: Envelope, body: ReplyBody): void {
    this.sendOn(route, {v: 1, type: 'reply', id: env.id, from: this.identity.id, to: env.from, ts: this.clock(), body});
  }

  // ---- handshakes ----------------------------------------------------------------------------------

  private newHandshake(initiator: boolean): HandshakeState {
    return new HandshakeState({
      protocolName: NOISE_PROTOCOL,
      initiator,
      prologue: PROLOGUE,
      s: this.staticKey,
      psks: [this.components.admission.psk],
    });
  }

  private startHandshake(link: OutLink): void {
    if (this.stopped || link.self) return;
    const sid = crypto.randomBytes(8);
    const hs = this.newHandshake(true);
    link.pending = {sid, hs, startedMs: this.clock()};
    link.sender.send(encodeHandshake(FrameKind.HandshakeInit, sid, hs.writeMessage(EMPTY)));
  }

  /** Checks the peer's hello against its Noise static key and our admission policy. */
  private verifyPeer(hs: HandshakeState, payload: Buffer, origin: string): PeerInfo | undefined {
    const hello = decodeHello(payload);
    const rs = hs.remoteStatic();
    if (!hello || !rs || !verifyStatic(hello, rs)) {
      this.handshakeFailed(origin, 'bad identity payload');
      return undefined;
    }
    if (!isAdmitted(this.components.admission, hello.key)) {
      this.stats.handshakesFailed++;
      this.components.firewall.drop('policy_denied', origin, `identity ${fingerprintOf(hello.key)} not on trust list`);
      return undefined;
    }
    return {
      id: idOf(hello.key),
      name: hello.name,
      role: hello.role,
      fingerprint: fingerprintOf(hello.key),
      identityKey: hello.key.toString('hex'),
      listen: hello.listen,
      labels: hello.labels,
      capacity: hello.cap,
    };
  }

  private handshakeFailed(origin: string, detail: string): void {
    this.stats.handshakesFailed++;
    this.components.firewall.drop('handshake_failed', origin, detail);
  }

  private respondInit(routingId: Buffer, sid: Buffer, noise: Buffer, origin: string): void {
    const key = sid.toString('hex');
    if (this.pendingIn.has(key) || this.inbound.has(key)) {
      this.components.firewall.drop('replayed', origin, 'handshake for a known session id');
      return;
    }
    if (this.pendingIn.size >= this.cfg.maxPendingHandshakes) {
      this.components.firewall.drop('rate_limited', origin, 'too many handshakes in flight');
      return;
    }
    const hs = this.newHandshake(false);
    try {
      hs.readMessage(noise);
    } catch {
      this.handshakeFailed(origin, 'bad message 1');
      return;
    }
    const msg2 = hs.writeMessage(this.helloPayload);
    this.pendingIn.set(key, {hs, routingId, startedMs: this.clock()});
    this.routerSender?.send([routingId, encodeHandshake(FrameKind.HandshakeResponse, sid, msg2)]);
  }

  private respondFinal(routingId: Buffer, sid: Buffer, noise: Buffer, origin: string): void {
    const key = sid.toString('hex');
    const pending = this.pendingIn.get(key);
    if (!pending) {
      this.components.firewall.drop('unauthenticated', origin, 'final message for no handshake');
      return;
    }
    this.pendingIn.delete(key);
    let payload: Buffer;
    try {
      payload = pending.hs.readMessage(noise); // fails here when the join secret (PSK) differs
    } catch {
      this.handshakeFailed(origin, 'bad message 3 (wrong join secret?)');
      return;
    }
    const peer = this.verifyPeer(pending.hs, payload, origin);
    if (!peer) return;
    const {send, recv} = pending.hs.split();
    const sender = this.routerSender!;
    const remoteStatic = pending.hs.remoteStatic()!;
    const route = newRoute(sid, peer, remoteStatic, new TransportSession(send, recv, this.clock(), this.cfg.rekey), (frame) => sender.send([routingId, frame]));
    this.inbound.set(key, route);
    this.inboundByPeer.set(peer.id, route);
    this.stats.sessionsIn = this.inbound.size;
    this.stats.handshakesCompleted++;
    this.sendOn(route, {v: 1, type: CONFIRM_TYPE, id: this.nextRequestId(), from: this.identity.id, to: peer.id, ts: this.clock(), body: null});
    for (const l of this.links.values()) {
      // The peer restarted (a new static key): our session with its old process is dead. Drop it now,
      // so replies go back over this new inbound session and our link re-handshakes at once, instead
      // of losing messages on the stale session until a reset arrives.
      if (l.current?.peer.id === peer.id && !l.current.remoteStatic.equals(remoteStatic)) {
        l.current = undefined;
        l.previous = undefined;
        l.pending = undefined;
      }
      // The peer is back: retry our own link to it now rather than after backoff.
      if (l.address === peer.listen && !l.current) {
        l.failures = 0;
        l.nextAttemptMs = 0;
        if (!l.pending?.route) {
          l.pending = undefined;
          this.startHandshake(l);
        }
      }
    }
    this.events.onPeerUp?.(peer, 'in');
  }

  private initiatorFinish(link: OutLink, sid: Buffer, noise: Buffer): void {
    const pending = link.pending;
    if (!pending || !pending.sid.equals(sid) || pending.route) {
      this.components.firewall.drop('unauthenticated', link.address, 'unexpected handshake response');
      return;
    }
    let payload: Buffer;
    try {
      payload = pending.hs.readMessage(noise);
    } catch {
      link.pending = undefined;
      this.handshakeFailed(link.address, 'bad message 2');
      this.backoff(link);
      return;
    }
    const peer = this.verifyPeer(pending.hs, payload, link.address);
    if (!peer) {
      link.pending = undefined;
      this.backoff(link);
      return;
    }
    if (peer.id === this.identity.id) {
      // We dialled ourselves (an mDNS echo or a --peer naming this node): keep the link inert.
      link.pending = undefined;
      link.self = true;
      return;
    }
    const msg3 = pending.hs.writeMessage(this.helloPayload);
    const {send, recv} = pending.hs.split();
    pending.route = newRoute(sid, peer, pending.hs.remoteStatic()!, new TransportSession(send, recv, this.clock(), this.cfg.rekey), (frame) => link.sender.send(frame));
    link.sender.send(encodeHandshake(FrameKind.HandshakeFinal, sid, msg3));
  }

  /** The responder confirmed the pending session: it becomes current, the old one drains. */
  private promote(link: OutLink): void {
    const route = link.pending!.route!;
    const wasUp = link.current !== undefined;
    if (wasUp) this.stats.rekeys++;
    link.previous = link.current;
    link.current = route;
    link.pending = undefined;
    link.failures = 0;
    this.stats.handshakesCompleted++;
    if (!wasUp) this.events.onPeerUp?.(route.peer, 'out');
  }

  private backoff(link: OutLink): void {
    link.failures++;
    // Capped low: peers are cluster members, a handshake is cheap, and a restarted peer should rejoin fast.
    link.nextAttemptMs = this.clock() + Math.min(5000, 250 * 2 ** Math.min(link.failures, 5));
  }

  /** Housekeeping: handshake timeouts and retries, rekeys, expiry of old sessions. */
  private tick(): void {
    const now = this.clock();
    for (const [key, p] of this.pendingIn) {
      if (now - p.startedMs > this.cfg.handshakeTimeoutMs) {
        this.pendingIn.delete(key);
        this.stats.handshakeTimeouts++;
      }
    }
    for (const [key, r] of this.inbound) {
      if (r.session.expired(now)) {
        this.inbound.delete(key);
        if (this.inboundByPeer.get(r.peer.id) === r) this.inboundByPeer.delete(r.peer.id);
      }
    }
    this.stats.sessionsIn = this.inbound.size;
    for (const link of this.links.values()) {
      if (link.self) continue;
      if (link.pending && now - link.pending.startedMs > this.cfg.handshakeTimeoutMs) {
        link.pending = undefined;
        this.stats.handshakeTimeouts++;
        this.backoff(link);
      }
      if (link.previous && link.previous.session.expired(now)) link.previous = undefined;
      if (link.current && link.current.session.expired(now)) link.current = undefined;
      if (link.pending) continue;
      if (!link.current) {
        if (now >= link.nextAttemptMs) this.startHandshake(link);
      } else if (link.current.session.wantsRekey(now)) {
        this.startHandshake(link);
      }
    }
  }

  /** Drops our outbound session to a peer that stopped answering, so the next tick re-handshakes. */
  resetLink(peerId: string): void {
    for (const link of this.links.values()) {
      if (link.current?.peer.id === peerId && !link.pending) {
        link.previous = link.current;
        link.current = undefined;
      }
    }
  }
}

function settleReply(pending: PendingRequest, body: unknown): void {
  const b = body as Partial<ReplyBody> | null;
  if (b && b.ok === true) pending.resolve(b.result);
  else if (b && b.ok === false && b.error && typeof b.error.code === 'string') pending.reject(new RemoteError(b.error.code, String(b.error.message)));
  else pending.reject(new RemoteError('malformed', 'malformed reply'));
}

/** Unbinds the router's endpoint on the calling (main) thread; a failure only means it is already gone. */
function unbindQuietly(router: zmq.Router): void {
  const endpoint = router.lastEndpoint;
  if (!endpoint) return;
  try {
    router.unbindSync(endpoint);
  } catch {
    // ENOENT when the endpoint was never bound or is already released; close() follows either way.
  }
}
