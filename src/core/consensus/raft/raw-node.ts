import {encodeConfChange} from './conf-change.js';
import {Raft} from './raft.js';
import type {ConfChange, ConfState, HardState, Message, NodeId, RaftConfig, RaftStorage, Ready, SoftState, Status} from './types.js';

export {ProposalDroppedError} from './raft.js';

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The thin synchronous wrapper around the rules: turns the core's pending output into a Ready and
 * does the bookkeeping when the caller `advance`s (etcd-io/raft's rawnode.go). Still pure.
 * Contract: call ready() only when hasReady(), and advance(rd) before the next ready().
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;

  constructor(config: RaftConfig, storage: RaftStorage) {
    this.raft = new Raft(config, storage);
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** A message from a peer. Malformed or stale messages are dropped (counted in raft.dropped), never thrown. */
  step(m: Message): void {
    this.raft.step(m);
  }

  campaign(): void {
    this.raft.hup(false);
  }

  /** Throws ProposalDroppedError when no leader is known or leadership is moving. */
  propose(data: Uint8Array): void {
    this.raft.propose([{term: 0, index: 0, type: 'normal', data}]);
  }

  proposeConfChange(cc: ConfChange): void {
    this.raft.propose([{term: 0, index: 0, type: 'conf', data: encodeConfChange(cc)}]);
  }

  /** Call when applying a committed conf entry; returns the membership to store with snapshots. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Asks for a linearizable read; a ReadState with this ctx appears in a later Ready. */
  readIndex(ctx: string): void {
    this.raft.readIndex(ctx);
  }

  transferLeader(to: NodeId): void {
    this.raft.transferLeader(to);
  }

  hasReady(): boolean {
    const r = this.raft;
    return (
      !sameSoft(this.softState(), this.prevSoft) ||
      !sameHard(this.hardState(), this.prevHard) ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.unstable().length > 0 ||
      r.log.pendingSnapshot() !== undefined ||
      r.log.hasNextCommitted()
    );
  }

  ready(): Ready {
    const r = this.raft;
    const soft = this.softState();
    const hard = this.hardState();
    const rd: Ready = {
      entries: r.log.unstable(),
      messages: r.msgs,
      committedEntries: r.log.nextCommitted(),
      readStates: r.readStates,
    };
    const snap = r.log.pendingSnapshot();
    if (snap) rd.snapshot = snap;
    if (!sameSoft(soft, this.prevSoft)) rd.softState = soft;
    if (!sameHard(hard, this.prevHard)) rd.hardState = hard;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** The caller did everything the Ready asked (persisted, sent, applied). */
  advance(rd: Ready): void {
    const log = this.raft.log;
    if (rd.softState) this.prevSoft = rd.softState;
    if (rd.hardState) this.prevHard = rd.hardState;
    if (rd.snapshot) {
      log.stableSnapTo(rd.snapshot.meta.index);
      log.snapshotApplied(rd.snapshot.meta.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index);
  }

  status(): Status {
    const r = this.raft;
    const st: Status = {
      id: r.id,
      hardState: this.hardState(),
      softState: this.softState(),
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      conf: r.conf(),
      leadTransferee: r.leadTransferee,
    };
    if (r.role === 'leader') {
      st.progress = Object.fromEntries([...r.progress()].map(([id, pr]) => [id, pr.status()]));
    }
    return st;
  }

  private softState(): SoftState {
    return {leader: this.raft.lead, role: this.raft.role};
  }

  private hardState(): HardState {
    return {term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed};
  }
}

function sameSoft(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}
