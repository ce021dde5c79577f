import {assert} from '../../errors.js';
import {decodeConfChange} from './conf-change.js';
import {Progress} from './progress.js';
import {committedIndex, majority, voteResult} from './quorum.js';
import {RaftLog} from './raft-log.js';
import {NONE} from './types.js';
import type {ConfChange, ConfState, Entry, Message, MessageType, NodeId, RaftConfig, RaftStorage, ReadState, Role, Snapshot} from './types.js';

/** A proposal the core refused (no leader known, leadership transfer in progress, a conf change pending). */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
}

/** Context marking votes of a leadership transfer: voters grant them even inside a leader lease. */
const TRANSFER = 'transfer';

interface PendingRead {
  index: number;
  /** Who asked (ourselves for a local read). */
  from: NodeId;
  ctx: string;
  acks: Set<NodeId>;
}

function msg(m: Partial<Message> & Pick<Message, 'type' | 'to'>): Message {
  return {from: NONE, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m};
}

/**
 * The Raft rules, one step function per role (etcd-io/raft's raft.go shape). Pure: no I/O, no clock
 * (time is `tick()`), no randomness but `config.rand`. Output accumulates in `msgs` and `readStates`
 * and the log's unstable part; RawNode turns them into a Ready.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = 'follower';
  readonly log: RaftLog;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee: NodeId = NONE;
  /** Leader: index of the last conf change proposed; a new one waits until it is applied. */
  pendingConfIndex = 0;
  /** Messages dropped because they were malformed or made no sense in this state. */
  dropped = 0;

  private voters = new Set<NodeId>();
  private learners = new Set<NodeId>();
  private prs = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly pendingReads: PendingRead[] = [];

  constructor(
    readonly config: RaftConfig,
    storage: RaftStorage,
  ) {
    assert(config.heartbeatTick > 0 && config.electionTick > config.heartbeatTick, 'electionTick must exceed heartbeatTick > 0');
    this.id = config.id;
    this.log = new RaftLog(storage);
    const {hardState, confState} = storage.initialState();
    this.setConf(confState);
    if (hardState.term > 0 || hardState.commit > 0) {
      this.term = hardState.term;
      this.vote = hardState.vote;
      this.log.commitTo(hardState.commit);
    }
    if (config.applied !== undefined && config.applied > 0) this.log.appliedTo(config.applied);
    this.becomeFollower(this.term, NONE);
  }

  // ---- membership ----------------------------------------------------------------------------------

  conf(): ConfState {
    return {voters: [...this.voters].sort(), learners: [...this.learners].sort()};
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  private setConf(c: ConfState): void {
    this.voters = new Set(c.voters);
    this.learners = new Set(c.learners.filter((l) => !this.voters.has(l)));
    this.resetProgress();
  }

  private resetProgress(): void {
    const next = this.log.lastIndex() + 1;
    const old = this.prs;
    this.prs = new Map();
    for (const id of [...this.voters, ...this.learners]) {
      let pr = old.get(id);
      if (!pr) {
        pr = new Progress(next, this.config.maxInflightMsgs, false);
        // A new member has had no chance to answer yet: don't let check-quorum count it as silent.
        pr.recentActive = true;
      }
      pr.learner = this.learners.has(id);
      this.prs.set(id, pr);
    }
    const self = this.prs.get(this.id);
    if (self && this.role === 'leader') self.maybeUpdate(this.log.lastIndex());
  }

  /** Applies a committed conf change (called by the application when it applies the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    const voters = new Set(this.voters);
    const learners = new Set(this.learners);
    switch (cc.op) {
      case 'add-voter':
        learners.delete(cc.node);
        voters.add(cc.node);
        break;
      case 'add-learner':
        if (!voters.has(cc.node)) learners.add(cc.node); // demotion is not a single-server step
        break;
      case 'remove':
        voters.delete(cc.node);
        learners.delete(cc.node);
        break;
    }
    this.setConf({voters: [...voters], learners: [...learners]});
    this.pendingConfIndex = Math.min(this.pendingConfIndex, this.log.applied);
    if (this.role === 'leader') {
      if (!this.voters.has(this.id)) {
        // Removed: stop leading; the rest elect a leader among themselves.
        this.becomeFollower(this.term, NONE);
      } else {
        if (this.leadTransferee !== NONE && !this.voters.has(this.leadTransferee)) this.leadTransferee = NONE;
        if (this.maybeCommit()) this.bcastAppend();
        else for (const id of this.prs.keys()) if (id !== this.id) this.maybeSendAppend(id, false);
      }
    }
    return this.conf();
  }

  private promotable(): boolean {
    return this.voters.has(this.id);
  }

  // ---- roles ---------------------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTick + Math.floor(this.config.rand() * this.config.electionTick);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.pendingReads.length = 0;
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.prs) {
      const fresh = new Progress(next, this.config.maxInflightMsgs, pr.learner);
      if (id === this.id) fresh.match = this.log.lastIndex();
      this.prs.set(id, fresh);
    }
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  private becomePreCandidate(): void {
    // Term and vote stay: a pre-vote changes nothing durable, so a partitioned node cannot disrupt.
    this.votes.clear();
    this.lead = NONE;
    this.role = 'pre-candidate';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    for (const pr of this.prs.values()) pr.recentActive = true;
    // Conservative: any conf change in the uncommitted tail counts as pending.
    this.pendingConfIndex = this.log.lastIndex();
    // An entry of our own term, so earlier entries can commit by counting (§5.4.2) and reads can be served.
    this.appendEntries([{term: 0, index: 0, type: 'normal', data: new Uint8Array()}]);
  }

  // ---- time ----------------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') return this.tickHeartbeat();
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    for (const [id, pr] of this.prs) {
      // A snapshot that never landed (lost on the way) is retried after an election timeout.
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.config.electionTick && id !== this.id) pr.becomeProbe();
    }
    if (this.electionElapsed >= this.config.electionTick) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      if (this.leadTransferee !== NONE) this.leadTransferee = NONE; // transfer timed out
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  /** Check-quorum: did a majority of voters talk to us during the last election timeout? Resets the marks. */
  private quorumActive(): boolean {
    let active = 0;
    for (const id of this.voters) {
      const pr = this.prs.get(id);
      if (id === this.id || pr?.recentActive) active++;
      if (pr && id !== this.id) pr.recentActive = false;
    }
    return active >= majority(this.voters.size);
  }

  // ---- elections -----------------------------------------------------------------------------------

  /** Starts an election now (local `campaign`, an election timeout, or a leadership transfer). */
  hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChange()) return; // wait until our membership view is current
    if (this.config.preVote && !transfer) this.campaign('pre', false);
    else this.campaign('election', transfer);
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const ents = this.log.slice(this.log.applied + 1, this.log.committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
    return ents.some((e) => e.type === 'conf');
  }

  private campaign(kind: 'pre' | 'election', transfer: boolean): void {
    let voteType: MessageType;
    let term: number;
    if (kind === 'pre') {
      this.becomePreCandidate();
      voteType = 'prevote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = 'vote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter cluster wins at once.
      if (kind === 'pre') this.campaign('election', transfer);
      else this.becomeLeader();
      return;
    }
    for (const id of [...this.voters].sort()) {
      if (id === this.id) continue;
      this.send(msg({type: voteType, to: id, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), ...(transfer ? {context: TRANSFER} : {})}));
    }
  }

  private poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult([...this.voters], this.votes);
  }

  // ---- the step function ---------------------------------------------------------------------------

  step(m: Message): void {
    if (!this.wellFormed(m)) {
      this.dropped++;
      return;
    }
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'prevote') {
        const force = m.context === TRANSFER;
        const inLease = this.config.checkQuorum && this.lead !== NONE && this.electionElapsed < this.config.electionTick;
        // A node that heard from a live leader recently ignores campaigns (it would be disrupted).
        if (!force && inLease) return;
      }
      if (m.type === 'prevote' || (m.type === 'prevote-resp' && !m.reject)) {
        // Pre-votes never change our term: a granted pre-vote response's term is the one we would campaign in.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term && m.term !== 0) {
      if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'heartbeat' || m.type === 'append')) {
        // A stale leader (e.g. healed from a partition) learns the new term and steps down.
        this.send(msg({type: 'append-resp', to: m.from}));
      } else if (m.type === 'prevote') {
        this.send(msg({type: 'prevote-resp', to: m.from, term: this.term, reject: true}));
      }
      return;
    }

    switch (m.type) {
      case 'vote':
      case 'prevote': {
        const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'prevote' && m.term > this.term);
        const respType = m.type === 'vote' ? 'vote-resp' : 'prevote-resp';
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          // Respond with the message's term: for a pre-vote ours may be lower.
          this.send(msg({type: respType, to: m.from, term: m.term}));
          if (m.type === 'vote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(msg({type: respType, to: m.from, term: this.term, reject: true}));
        }
        return;
      }
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        return this.stepLeader(m);
      case 'candidate':
      case 'pre-candidate':
        return this.stepCandidate(m);
      case 'follower':
        return this.stepFollower(m);
    }
  }

  /** Structural checks on a message from the network: never trust a peer's shapes. */
  private wellFormed(m: Message): boolean {
    const n = (x: unknown): boolean => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (m.to !== this.id && m.to !== NONE) return false;
    if (!n(m.term) || !n(m.logTerm) || !n(m.index) || !n(m.commit) || !n(m.rejectHint) || !Array.isArray(m.entries)) return false;
    // Only messages that carry no term may have term 0; anything else at term 0 would skip the stale-term check.
    if (m.term === 0 && m.type !== 'propose' && m.type !== 'read-index') return false;
    for (let k = 0; k < m.entries.length; k++) {
      const e = m.entries[k]!;
      if (!e || !n(e.term) || !n(e.index) || !(e.data instanceof Uint8Array) || (e.type !== 'normal' && e.type !== 'conf')) return false;
      if (m.type === 'append' && e.index !== m.index + 1 + k) return false;
      if (m.type === 'append' && (e.term > m.term || e.term < m.logTerm)) return false;
    }
    if (m.type === 'snapshot') {
      const s = m.snapshot;
      if (!s || !n(s.meta.index) || !n(s.meta.term) || s.meta.term > m.term || !Array.isArray(s.meta.conf?.voters) || !Array.isArray(s.meta.conf?.learners)) return false;
    }
    return true;
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'propose':
        return this.leaderPropose(m.entries);
      case 'read-index':
        return this.leaderReadIndex(m.from, m.context ?? '');
      case 'timeout-now':
        return;
      default:
        break;
    }
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'append-resp':
        return this.handleAppendResp(m, pr);
      case 'heartbeat-resp':
        pr.recentActive = true;
        pr.paused = false;
        // Appends may have been lost: a heartbeat answer frees one slot so replication can resume.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
        if (pr.match < this.log.lastIndex()) this.maybeSendAppend(m.from, true);
        if (m.context) this.ackRead(m.from, m.context);
        return;
      default:
        return;
    }
  }

  private handleAppendResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let hint = m.rejectHint;
      if (m.logTerm > 0) hint = this.log.findConflictByTerm(m.rejectHint, m.logTerm);
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.maybeSendAppend(m.from, true);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) {
      this.bcastAppend();
    } else if (oldPaused) {
      this.maybeSendAppend(m.from, true);
    }
    // Pipelining: keep the window full.
    while (this.maybeSendAppend(m.from, false)) {
      /* each call sends one more batch */
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(msg({type: 'timeout-now', to: m.from}));
    }
  }

  private leaderPropose(entries: Entry[]): void {
    if (!this.prs.has(this.id) || this.leadTransferee !== NONE) {
      this.dropped++;
      return;
    }
    const ents = entries.map((e) => {
      if (e.type !== 'conf') return e;
      if (this.pendingConfIndex > this.log.applied || !decodeConfChange(e.data)) {
        // One membership change at a time (single-server changes); the extra one becomes a no-op.
        return {...e, type: 'normal' as const, data: new Uint8Array()};
      }
      return e;
    });
    const last = this.appendEntries(ents);
    ents.forEach((e, k) => {
      if (e.type === 'conf') this.pendingConfIndex = last - ents.length + 1 + k;
    });
    this.bcastAppend();
  }

  private stepCandidate(m: Message): void {
    const respType = this.role === 'pre-candidate' ? 'prevote-resp' : 'vote-resp';
    switch (m.type) {
      case 'propose':
        this.dropped++;
        return;
      case 'append':
        this.becomeFollower(m.term, m.from);
        return this.handleAppend(m);
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        return this.handleHeartbeat(m);
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        return this.handleSnapshot(m);
      case 'prevote-resp':
      case 'vote-resp': {
        if (m.type !== respType) return;
        const r = this.poll(m.from, !m.reject);
        if (r === 'won') {
          if (this.role === 'pre-candidate') this.campaign('election', false);
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (r === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'propose':
      case 'read-index':
        if (this.lead === NONE) {
          this.dropped++;
          return;
        }
        this.send({...m, to: this.lead});
        return;
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleAppend(m);
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleHeartbeat(m);
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleSnapshot(m);
      case 'timeout-now':
        if (this.promotable()) this.hup(true);
        return;
      case 'read-index-resp':
        this.readStates.push({index: m.index, ctx: m.context ?? ''});
        return;
      default:
        return;
    }
  }

  // ---- follower handlers ---------------------------------------------------------------------------

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(msg({type: 'append-resp', to: m.from, index: this.log.committed}));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(msg({type: 'append-resp', to: m.from, index: lastNew}));
      return;
    }
    // Reject with a hint so the leader can skip a whole conflicting term (fast backtracking).
    const hintIndex = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    const hintTerm = this.log.term(hintIndex) ?? 0;
    this.send(msg({type: 'append-resp', to: m.from, index: m.index, reject: true, rejectHint: hintIndex, logTerm: hintTerm}));
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(match, committed), so this never passes our log.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(msg({type: 'heartbeat-resp', to: m.from, ...(m.context ? {context: m.context} : {})}));
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s && this.restore(s)) {
      this.send(msg({type: 'append-resp', to: m.from, index: this.log.lastIndex()}));
    } else {
      this.send(msg({type: 'append-resp', to: m.from, index: this.log.committed}));
    }
  }

  private restore(s: Snapshot): boolean {
    if (s.meta.index <= this.log.committed) return false;
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      // We already have the snapshot's last entry: just fast-forward commit.
      this.log.commitTo(s.meta.index);
      return false;
    }
    this.log.restore(s);
    this.setConf(s.meta.conf);
    return true;
  }

  // ---- leader: replication -------------------------------------------------------------------------

  /** Appends entries in the current term; returns the new last index. */
  private appendEntries(ents: Entry[]): number {
    let index = this.log.lastIndex();
    const stamped = ents.map((e) => ({...e, term: this.term, index: ++index}));
    const last = this.log.append(stamped);
    this.prs.get(this.id)?.maybeUpdate(last);
    this.maybeCommit();
    return last;
  }

  private maybeCommit(): boolean {
    const idx = committedIndex([...this.voters], (id) => this.prs.get(id)?.match ?? 0);
    return this.log.maybeCommit(idx, this.term);
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.maybeSendAppend(id, true);
  }

  private bcastHeartbeat(context?: string): void {
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      this.send(msg({type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), ...(context ? {context} : {})}));
    }
  }

  /** Sends an append (or a snapshot) to `to` if its window allows; true when something was sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevTerm = this.log.term(pr.next - 1);
    const ents = this.log.entriesFrom(pr.next, this.config.maxSizePerMsg);
    if (prevTerm === undefined || ents === undefined) {
      // The entries it needs are compacted away: send the snapshot instead.
      if (!pr.recentActive) return false;
      const snap = this.log.snapshot();
      if (snap.meta.index === 0) return false;
      pr.becomeSnapshot(snap.meta.index);
      this.send(msg({type: 'snapshot', to, snapshot: snap}));
      return true;
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(msg({type: 'append', to, index: pr.next - 1, logTerm: prevTerm, entries: ents, commit: this.log.committed}));
    if (ents.length > 0) {
      if (pr.state === 'replicate') {
        const last = ents[ents.length - 1]!.index;
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
      } else if (pr.state === 'probe') {
        pr.paused = true;
      }
    } else if (pr.state === 'probe') {
      pr.paused = true;
    }
    return true;
  }

  // ---- leader: reads and transfer ------------------------------------------------------------------

  /** ReadIndex (§6.4): remember the commit index, confirm leadership with a heartbeat round. */
  private leaderReadIndex(from: NodeId, ctx: string): void {
    if (this.voters.size === 1) {
      this.releaseRead({index: this.log.committed, from, ctx, acks: new Set()});
      return;
    }
    // Until an entry of our term commits, our commit index may be behind the true one.
    if (this.log.term(this.log.committed) !== this.term) {
      this.dropped++;
      return;
    }
    this.pendingReads.push({index: this.log.committed, from, ctx, acks: new Set([this.id])});
    this.bcastHeartbeat(ctx);
  }

  private ackRead(from: NodeId, ctx: string): void {
    const at = this.pendingReads.findIndex((r) => r.ctx === ctx);
    if (at < 0) return;
    const read = this.pendingReads[at]!;
    if (this.voters.has(from)) read.acks.add(from);
    if (read.acks.size < majority(this.voters.size)) return;
    // A quorum confirmed leadership at this point: this read and every earlier one are safe.
    for (const r of this.pendingReads.splice(0, at + 1)) this.releaseRead(r);
  }

  private releaseRead(r: PendingRead): void {
    if (r.from === this.id || r.from === NONE) this.readStates.push({index: r.index, ctx: r.ctx});
    else this.send(msg({type: 'read-index-resp', to: r.from, index: r.index, context: r.ctx}));
  }

  /** Leadership transfer (§3.10): catch the target up, then tell it to campaign at once. */
  transferLeader(to: NodeId): void {
    if (this.role !== 'leader') return; // the driver forwards transfer requests to the leader
    const pr = this.prs.get(to);
    if (!pr || pr.learner || to === this.id || to === this.leadTransferee) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.send(msg({type: 'timeout-now', to}));
    else this.maybeSendAppend(to, true);
  }

  // ---- local API used by RawNode -------------------------------------------------------------------

  propose(entries: Entry[]): void {
    if (this.role === 'leader') {
      if (this.leadTransferee !== NONE) throw new ProposalDroppedError(`leadership is moving to ${this.leadTransferee}`);
      this.leaderPropose(entries);
      return;
    }
    if (this.lead === NONE) throw new ProposalDroppedError('no leader');
    this.send(msg({type: 'propose', to: this.lead, entries}));
  }

  readIndex(ctx: string): void {
    if (this.role === 'leader') return this.leaderReadIndex(this.id, ctx);
    if (this.lead === NONE) throw new ProposalDroppedError('no leader');
    this.send(msg({type: 'read-index', to: this.lead, context: ctx}));
  }

  progress(): Map<NodeId, Progress> {
    return this.prs;
  }

  private send(m: Message): void {
    m.from = this.id;
    // Votes and their answers carry their own term (a pre-vote's is the future one); 'propose' and
    // forwarded reads carry none; everything else our current term.
    if (m.type !== 'vote' && m.type !== 'prevote' && m.type !== 'vote-resp' && m.type !== 'prevote-resp' && m.type !== 'propose' && m.type !== 'read-index') {
      m.term = this.term;
    }
    this.msgs.push(m);
  }
}
