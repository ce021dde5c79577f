import type {Capacity} from '../transport/hello.js';

/**
 * The member table and failure detector. Pure: time comes in as arguments, nothing here does I/O,
 * so the alive -> suspect -> dead rules are tested by feeding clocks.
 *
 * A member is `alive` while it answered within `suspectAfterMs`, `suspect` until `deadAfterMs`, then
 * `dead`. `left` is a member that said goodbye (SIGTERM); it stays listed, like consul's members.
 */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface FailureDetectorConfig {
  heartbeatIntervalMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
}

export const DEFAULT_FAILURE_DETECTOR: FailureDetectorConfig = {
  heartbeatIntervalMs: 1000,
  suspectAfterMs: 3000,
  deadAfterMs: 10_000,
};

export interface Member {
  id: string;
  name: string;
  /** Listen address, tcp://host:port. */
  address: string;
  state: MemberState;
  /** Last time (ms) the member proved it was alive; 0 = never. */
  lastSeenMs: number;
  /** Round-trip time of the last answered heartbeat. */
  rttMs?: number;
  labels: Record<string, string>;
  capacity: Capacity;
  fingerprint: string;
}

export interface StateChange {
  id: string;
  from: MemberState;
  to: MemberState;
}

export class Membership {
  private readonly members = new Map<string, Member>();
  /** Bound on the table: gossip from a bad peer cannot grow it without limit. */
  static readonly MAX_MEMBERS = 1024;

  constructor(readonly config: FailureDetectorConfig) {
    if (!(config.suspectAfterMs > config.heartbeatIntervalMs && config.deadAfterMs > config.suspectAfterMs)) {
      throw new RangeError('need heartbeat interval < suspect-after < dead-after');
    }
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }

  list(): Member[] {
    return [...this.members.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** Adds or updates what a peer says about itself (from its authenticated handshake). */
  upsert(info: Omit<Member, 'state' | 'lastSeenMs' | 'rttMs'>, nowMs: number): StateChange | undefined {
    const m = this.members.get(info.id);
    if (!m) {
      if (this.members.size >= Membership.MAX_MEMBERS) return undefined;
      this.members.set(info.id, {...info, state: 'alive', lastSeenMs: nowMs});
      return {id: info.id, from: 'dead', to: 'alive'};
    }
    Object.assign(m, info);
    m.lastSeenMs = Math.max(m.lastSeenMs, nowMs);
    return this.setState(m, 'alive');
  }

  /**
   * The member proved it is alive (answered, or sent an authenticated message).
   * A member that `left` stays left: a heartbeat still in flight when it said goodbye (on another
   * connection, so it may arrive after the goodbye) must not revive it. Only a new handshake
   * (`upsert`) brings it back.
   */
  markSeen(id: string, nowMs: number, rttMs?: number): StateChange | undefined {
    const m = this.members.get(id);
    if (!m || m.state === 'left') return undefined;
    m.lastSeenMs = Math.max(m.lastSeenMs, nowMs);
    if (rttMs !== undefined) m.rttMs = rttMs;
    return this.setState(m, 'alive');
  }

  markLeft(id: string): StateChange | undefined {
    const m = this.members.get(id);
    return m ? this.setState(m, 'left') : undefined;
  }

  /** Advances states by elapsed silence. Returns the changes, in table order. */
  tick(nowMs: number): StateChange[] {
    const changes: StateChange[] = [];
    for (const m of this.members.values()) {
      if (m.state === 'left') continue;
      const silentMs = nowMs - m.lastSeenMs;
      const next: MemberState = silentMs >= this.config.deadAfterMs ? 'dead' : silentMs >= this.config.suspectAfterMs ? 'suspect' : 'alive';
      const c = this.setState(m, next);
      if (c) changes.push(c);
    }
    return changes;
  }

  private setState(m: Member, to: MemberState): StateChange | undefined {
    if (m.state === to) return undefined;
    const c = {id: m.id, from: m.state, to};
    m.state = to;
    return c;
  }
}
