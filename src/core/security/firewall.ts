import type {Envelope} from '../transport/envelope.js';
import {RateLimiter} from './rate-limiter.js';

/**
 * The zero-trust gate between the transport and every handler. The transport reports what it could not
 * even authenticate (`drop`); authenticated envelopes must pass `admit` before any handler sees them.
 * Every refusal is counted per reason and audit-logged (rate-limited, so a flood cannot fill the disk).
 */
export const DROP_REASONS = [
  'malformed', // not a frame / not an envelope
  'oversized', // larger than the frame limit
  'unauthenticated', // no session, or AEAD tag failed
  'replayed', // counter already seen or outside the window
  'expired', // session past its reject-after age
  'handshake_failed', // Noise failure: wrong join secret, tampering, bad identity signature
  'policy_denied', // identity not on the trust list, or role not allowed this type
  'forged', // envelope.from is not the authenticated peer
  'unknown_type', // no handler for this type
  'rate_limited', // peer over its message rate
  'backpressure', // outbound queue full or peer's high-water mark reached
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type DropCounters = Record<DropReason, number>;

export interface AuditEvent {
  reason: DropReason;
  /** Authenticated peer id, or a transport-level origin (routing id / address) when unauthenticated. */
  origin: string;
  detail?: string;
}

export interface AuditSink {
  audit(event: AuditEvent & {ts: number; suppressed?: number}): void;
}

export interface FirewallInit {
  /** Message types with a registered handler; anything else is unknown_type. */
  knownType: (type: string) => boolean;
  /** Types a peer of this role may send; default allows all. */
  allowType?: (role: PeerRole, type: string) => boolean;
  ratePerSec?: number;
  burst?: number;
  /** Audit lines per reason per window before they are summarised. */
  auditPerWindow?: number;
  auditWindowMs?: number;
}

export type PeerRole = 'node' | 'client';

export interface AuthenticatedPeer {
  id: string;
  role: PeerRole;
}

export class Firewall {
  readonly counters: DropCounters = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounters;
  admitted = 0;
  private readonly limiter: RateLimiter;
  private readonly auditWindow = new Map<DropReason, {startMs: number; logged: number; suppressed: number}>();
  private readonly auditPerWindow: number;
  private readonly auditWindowMs: number;

  constructor(
    private readonly components: {clock: () => number; sink: AuditSink},
    private readonly init: FirewallInit,
  ) {
    this.limiter = new RateLimiter(init.ratePerSec ?? 5000, init.burst ?? 10_000);
    this.auditPerWindow = init.auditPerWindow ?? 20;
    this.auditWindowMs = init.auditWindowMs ?? 10_000;
  }

  /** Counts and audits a refusal. */
  drop(reason: DropReason, origin: string, detail?: string): void {
    this.counters[reason]++;
    const now = this.components.clock();
    let w = this.auditWindow.get(reason);
    if (!w || now - w.startMs >= this.auditWindowMs) {
      if (w && w.suppressed > 0) {
        this.components.sink.audit({reason, origin: '*', detail: 'summary of suppressed events', ts: now, suppressed: w.suppressed});
      }
      w = {startMs: now, logged: 0, suppressed: 0};
      this.auditWindow.set(reason, w);
    }
    if (w.logged < this.auditPerWindow) {
      w.logged++;
      this.components.sink.audit({reason, origin, ...(detail ? {detail} : {}), ts: now});
    } else {
      w.suppressed++;
    }
  }

  /** The gate for authenticated traffic: true lets the envelope through to its handler. */
  admit(peer: AuthenticatedPeer, env: Envelope): boolean {
    if (env.from !== peer.id) return this.refuse('forged', peer.id, `from=${env.from.slice(0, 16)}`);
    if (!this.limiter.take(peer.id, this.components.clock())) return this.refuse('rate_limited', peer.id);
    if (env.type !== 'reply' && !this.init.knownType(env.type)) return this.refuse('unknown_type', peer.id, env.type);
    if (this.init.allowType && env.type !== 'reply' && !this.init.allowType(peer.role, env.type)) {
      return this.refuse('policy_denied', peer.id, env.type);
    }
    this.admitted++;
    return true;
  }

  forgetPeer(id: string): void {
    this.limiter.forget(id);
  }

  totalDropped(): number {
    return DROP_REASONS.reduce((n, r) => n + this.counters[r], 0);
  }

  private refuse(reason: DropReason, origin: string, detail?: string): false {
    this.drop(reason, origin, detail);
    return false;
  }
}
