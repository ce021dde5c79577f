import * as crypto from 'node:crypto';

import {ConflictError, NotFoundError, TimeoutError, UsageError} from '../../errors.js';
import type {Logger} from '../../log/logger.js';
import type {PeerInfo, Voyager} from '../../transport/voyager.js';
import type {KvCommand, KvEvent, KvRecord, KvResult} from '../kv/kv-store.js';
import {invalidCommand, KvStore} from '../kv/kv-store.js';
import {decodeConfChange} from './conf-change.js';
import {ProposalDroppedError, RawNode} from './raw-node.js';
import type {ConfChange, ConfState, Entry, NodeId, Ready, WritableRaftStorage} from './types.js';
import {decodeRaftMessage, encodeRaftMessage} from './wire.js';

export interface RaftDriverInit {
  id: NodeId;
  /** One logical tick; election timeout is electionTick..2*electionTick ticks. */
  tickMs: number;
  electionTick: number;
  heartbeatTick: number;
  /** Take a snapshot (and compact the log) every this many applied entries. */
  snapshotEvery: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  proposalTimeoutMs: number;
}

export const DEFAULT_RAFT: Omit<RaftDriverInit, 'id'> = {
  tickMs: 100,
  electionTick: 10,
  heartbeatTick: 1,
  snapshotEvery: 10_000,
  maxSizePerMsg: 512 * 1024,
  maxInflightMsgs: 64,
  proposalTimeoutMs: 5000,
};

/** `swarm consensus status --json`. */
export interface ConsensusStatus {
  id: NodeId;
  role: string;
  term: number;
  leader: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  voters: NodeId[];
  learners: NodeId[];
  /** On the leader: each member's replication state; lag = leader's last index - match. */
  members: {id: NodeId; match: number; next: number; lag: number; state: string; learner: boolean; active: boolean}[];
  snapshot: {index: number; term: number};
  leadTransferee: NodeId;
}

interface Waiter {
  resolve(r: KvResult): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** The proposed entry, re-sent if the leader changes before it applies. */
  data: Uint8Array;
}

interface ReadWaiter {
  index?: number;
  resolve(): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  retry: NodeJS.Timeout;
}

const RAFT_MSG = 'raft.msg';
const RAFT_TRANSFER = 'raft.transfer';
const RAFT_MEMBER = 'raft.member';
const RAFT_PROPOSE = 'raft.propose';
const RAFT_STATUS = 'raft.status';

/**
 * The only async part of consensus (etcd-io/raft's node.go role): owns the clock (ticks), the transport
 * and the storage, and runs the pure core: persist (fsync) -> send -> apply -> advance, in that order.
 * Proposals made on a follower are forwarded by the core to the leader; a caller waits until its
 * entry is applied here.
 */
export class RaftDriver {
  readonly kv = new KvStore();
  private raw!: RawNode;
  private ticker?: NodeJS.Timeout;
  private scheduled = false;
  private readonly waiters = new Map<string, Waiter>();
  private readonly reads = new Map<string, ReadWaiter>();
  private readonly watchers = new Set<{namespace: string; prefix: string; fn: (e: KvEvent) => void}>();
  private readonly confWaiters = new Set<() => void>();
  private seq = 0;
  private readonly session = crypto.randomBytes(4).toString('hex');
  private applied = 0;
  private conf: ConfState = {voters: [], learners: []};
  private stopped = false;

  constructor(
    private readonly components: {transport: Voyager; storage: WritableRaftStorage; log: Logger},
    readonly init: RaftDriverInit,
  ) {}

  start(): void {
    const storage = this.components.storage;
    const snap = storage.snapshot();
    this.kv.restore(snap.data);
    this.applied = snap.meta.index;
    this.conf = snap.meta.conf;
    this.raw = new RawNode(
      {
        id: this.init.id,
        electionTick: this.init.electionTick,
        heartbeatTick: this.init.heartbeatTick,
        // The driver is the edge: randomness for election jitter comes from here into the pure core.
        rand: () => crypto.randomInt(0, 1 << 30) / (1 << 30),
        preVote: true,
        checkQuorum: true,
        maxSizePerMsg: this.init.maxSizePerMsg,
        maxInflightMsgs: this.init.maxInflightMsgs,
        applied: snap.meta.index,
      },
      storage,
    );
    const t = this.components.transport;
    t.handle(RAFT_MSG, (env, peer) => {
      const m = decodeRaftMessage(env.body);
      // A peer may only speak for itself.
      if (!m || m.from !== peer.id || m.to !== this.init.id) return undefined;
      this.raw.step(m);
      this.schedule();
      return undefined;
    });
    t.handle(RAFT_TRANSFER, (env) => {
      const to = (env.body as {to?: unknown} | null)?.to;
      if (typeof to !== 'string') throw new UsageError('transfer: missing target');
      return this.transferLeader(to);
    });
    t.handle(RAFT_STATUS, () => this.status());
    t.handle(RAFT_MEMBER, (env) => {
      const cc = decodeConfChange(new TextEncoder().encode(JSON.stringify(env.body)));
      if (!cc) throw new UsageError('member change: malformed');
      return this.changeMember(cc);
    });
    t.handle(RAFT_PROPOSE, async (env) => {
      const why = invalidCommand(env.body);
      if (why) throw new UsageError(`kv command: ${why}`);
      return this.propose(env.body as KvCommand);
    });
    this.ticker = setInterval(() => {
      this.raw.tick();
      this.process();
    }, this.init.tickMs);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(new ConflictError('node stopping'));
    }
    for (const r of this.reads.values()) {
      clearTimeout(r.timer);
      clearTimeout(r.retry);
      r.reject(new ConflictError('node stopping'));
    }
    this.waiters.clear();
    this.reads.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Coalesce: everything that arrives in this turn of the event loop is persisted with one fsync.
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  /** Runs Readys until there is nothing to do. The order is the Ready contract. */
  private process(): void {
    if (this.stopped) return;
    const storage = this.components.storage;
    while (this.raw.hasReady()) {
      const rd = this.raw.ready();
      // 1. persist (each call is durable when it returns)
      if (rd.snapshot) storage.applySnapshot(rd.snapshot);
      storage.save(rd.hardState, rd.entries);
      // 2. send
      for (const m of rd.messages) this.components.transport.send(m.to, RAFT_MSG, encodeRaftMessage(m));
      // 3. apply
      if (rd.snapshot) this.applySnapshot(rd);
      for (const e of rd.committedEntries) this.apply(e);
      this.raw.advance(rd);
      // 4. reads
      for (const rs of rd.readStates) {
        const w = this.reads.get(rs.ctx);
        if (w) w.index = rs.index;
      }
      this.serveReads();
      if (rd.softState) {
        this.components.log.info('raft role', {role: rd.softState.role, leader: rd.softState.leader});
        if (rd.softState.leader) this.repropose();
      }
      this.maybeSnapshot();
    }
  }

  /**
   * A new leader: proposals still waiting may have died with the old one (forwarded to it, or in its
   * uncommitted tail). Send them again; the state machine applies each (session, seq) at most once.
   */
  private repropose(): void {
    for (const w of this.waiters.values()) {
      try {
        this.raw.propose(w.data);
      } catch {
        return; // no leader after all; the next leader change retries
      }
    }
  }

  private applySnapshot(rd: Ready): void {
    this.kv.restore(rd.snapshot!.data);
    this.applied = rd.snapshot!.meta.index;
    this.conf = rd.snapshot!.meta.conf;
  }

  private apply(e: Entry): void {
    this.applied = e.index;
    if (e.type === 'conf') {
      const cc = decodeConfChange(e.data);
      if (cc) this.conf = this.raw.applyConfChange(cc);
      this.kv.skip(e.index);
      for (const w of [...this.confWaiters]) w();
      return;
    }
    if (e.data.length === 0) {
      this.kv.skip(e.index);
      return;
    }
    let id: string | undefined;
    let cmd: KvCommand | undefined;
    let session = '';
    let seq = -1;
    try {
      const o = JSON.parse(new TextDecoder().decode(e.data)) as {id?: string; session?: string; seq?: number; cmd?: KvCommand};
      id = o.id;
      session = typeof o.session === 'string' ? o.session : '';
      seq = typeof o.seq === 'number' ? o.seq : -1;
      cmd = invalidCommand(o.cmd) ? undefined : o.cmd;
    } catch {
      cmd = undefined;
    }
    if (!cmd || (session !== '' && !this.kv.firstTime(session, seq))) {
      this.kv.skip(e.index);
      return;
    }
    const {result, event} = this.kv.apply(cmd, e.index);
    if (event) for (const w of this.watchers) if (w.namespace === event.namespace && event.key.startsWith(w.prefix)) w.fn(event);
    const waiter = id ? this.waiters.get(id) : undefined;
    if (waiter) {
      clearTimeout(waiter.timer);
      this.waiters.delete(id!);
      waiter.resolve(result);
    }
  }

  private maybeSnapshot(): void {
    const storage = this.components.storage;
    if (this.applied - storage.snapshot().meta.index < this.init.snapshotEvery) return;
    storage.createSnapshot(this.applied, this.conf, this.kv.snapshot());
  }

  // ---- API -----------------------------------------------------------------------------------------

  /**
   * Proposes a write; resolves once it is applied on this node. On a follower the core forwards it
   * to the leader. ConflictError (exit 6) when no leader is known, TimeoutError (exit 7) when the
   * outcome is unknown (it may still apply).
   */
  propose(cmd: KvCommand, options: {timeoutMs?: number} = {}): Promise<KvResult> {
    const why = invalidCommand(cmd);
    if (why) return Promise.reject(new UsageError(`kv: ${why}`));
    const seq = this.seq++;
    const session = `${this.init.id.slice(0, 8)}-${this.session}`;
    const id = `${session}-${seq}`;
    const data = new TextEncoder().encode(JSON.stringify({id, session, seq, cmd}));
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.init.proposalTimeoutMs;
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new TimeoutError(`write not applied within ${timeoutMs}ms (no quorum?); it may still apply`));
      }, timeoutMs);
      this.waiters.set(id, {resolve, reject, timer, data});
      try {
        this.raw.propose(data);
      } catch (err) {
        clearTimeout(timer);
        this.waiters.delete(id);
        if (err instanceof ProposalDroppedError) reject(new ConflictError(`no leader to take the write (${err.message}); retry`));
        else reject(err);
        return;
      }
      this.schedule();
    });
  }

  /** Linearizable read (ReadIndex): resolves when this node has applied everything committed at the time of the call. */
  private linearizable(timeoutMs: number): Promise<void> {
    const ctx = `${this.session}-r${this.seq++}`;
    return new Promise((resolve, reject) => {
      const ask = (): void => {
        try {
          this.raw.readIndex(ctx);
          this.schedule();
        } catch {
          // no leader yet: the retry timer asks again
        }
      };
      const w: ReadWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          clearInterval(w.retry);
          this.reads.delete(ctx);
          reject(new TimeoutError(`linearizable read not confirmed within ${timeoutMs}ms (no quorum?)`));
        }, timeoutMs),
        // A read the leader could not serve yet (no entry of its term committed) is asked again.
        retry: setInterval(() => {
          if (w.index === undefined) ask();
        }, Math.max(50, this.init.tickMs * 2)),
      };
      this.reads.set(ctx, w);
      ask();
    });
  }

  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index === undefined || this.applied < r.index) continue;
      this.reads.delete(ctx);
      clearTimeout(r.timer);
      clearInterval(r.retry);
      r.resolve();
    }
  }

  async get(namespace: string, key: string, options: {timeoutMs?: number; serializable?: boolean} = {}): Promise<KvRecord> {
    if (!options.serializable) await this.linearizable(options.timeoutMs ?? this.init.proposalTimeoutMs);
    const r = this.kv.get(namespace, key);
    if (!r) throw new NotFoundError(`key ${namespace}/${key} not found`);
    return r;
  }

  async list(namespace: string, prefix: string, options: {timeoutMs?: number; serializable?: boolean} = {}): Promise<KvRecord[]> {
    if (!options.serializable) await this.linearizable(options.timeoutMs ?? this.init.proposalTimeoutMs);
    return this.kv.list(namespace, prefix);
  }

  watch(namespace: string, prefix: string, fn: (e: KvEvent) => void): () => void {
    const w = {namespace, prefix, fn};
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** Asks the leader (wherever it is) to hand leadership to `to`; resolves when `to` leads. */
  async transferLeader(to: NodeId, timeoutMs = 5000): Promise<{leader: NodeId}> {
    const st = this.raw.status();
    if (!st.conf.voters.includes(to)) throw new NotFoundError(`${to} is not a voting member`);
    if (st.softState.leader === to) return {leader: to};
    if (st.softState.role === 'leader') {
      this.raw.transferLeader(to);
      this.schedule();
    } else if (st.softState.leader) {
      await this.components.transport.request(st.softState.leader, RAFT_TRANSFER, {to}, {timeoutMs});
      return {leader: to};
    } else {
      throw new ConflictError('no leader to transfer from; retry');
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.raw.status().softState.leader === to) return {leader: to};
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new TimeoutError(`leadership did not move to ${to} within ${timeoutMs}ms`);
  }

  /** Single-server membership change through the log; resolves when applied here. */
  async changeMember(cc: ConfChange, timeoutMs = 5000): Promise<{voters: NodeId[]; learners: NodeId[]}> {
    const st = this.raw.status();
    if (st.softState.role !== 'leader') {
      if (!st.softState.leader) throw new ConflictError('no leader; retry');
      return (await this.components.transport.request(st.softState.leader, RAFT_MEMBER, cc, {timeoutMs})) as {voters: NodeId[]; learners: NodeId[]};
    }
    const done = (): boolean =>
      cc.op === 'remove' ? !this.conf.voters.includes(cc.node) && !this.conf.learners.includes(cc.node) : cc.op === 'add-voter' ? this.conf.voters.includes(cc.node) : this.conf.learners.includes(cc.node) || this.conf.voters.includes(cc.node);
    if (done()) return this.conf;
    try {
      this.raw.proposeConfChange(cc);
    } catch (err) {
      if (err instanceof ProposalDroppedError) throw new ConflictError(`membership change refused: ${err.message}`);
      throw err;
    }
    this.schedule();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.confWaiters.delete(check);
        reject(new TimeoutError(`membership change not applied within ${timeoutMs}ms (another change pending? no quorum?)`));
      }, timeoutMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.confWaiters.delete(check);
        resolve();
      };
      this.confWaiters.add(check);
    });
    return this.conf;
  }

  /** Forwards a write to the leader over the transport (used by remote callers). */
  async proposeVia(peer: PeerInfo, cmd: KvCommand, timeoutMs: number): Promise<KvResult> {
    return (await this.components.transport.request(peer.id, RAFT_PROPOSE, cmd, {timeoutMs})) as KvResult;
  }

  isLeader(): boolean {
    return this.raw.status().softState.role === 'leader';
  }

  leader(): NodeId {
    return this.raw.status().softState.leader;
  }

  /**
   * Status for operators: on a follower, the members' replication state (only the leader tracks it)
   * is fetched from the leader; if the leader does not answer, it is left empty.
   */
  async clusterStatus(timeoutMs = 500): Promise<ConsensusStatus> {
    const local = this.status();
    if (local.role === 'leader' || !local.leader) return local;
    try {
      const remote = (await this.components.transport.request(local.leader, RAFT_STATUS, null, {timeoutMs})) as ConsensusStatus;
      if (Array.isArray(remote?.members)) local.members = remote.members;
    } catch {
      // leader unreachable: report what this node knows
    }
    return local;
  }

  status(): ConsensusStatus {
    const st = this.raw.status();
    const snap = this.components.storage.snapshot().meta;
    return {
      id: st.id,
      role: st.softState.role,
      term: st.hardState.term,
      leader: st.softState.leader,
      commit: st.hardState.commit,
      applied: this.applied,
      lastIndex: st.lastIndex,
      voters: st.conf.voters,
      learners: st.conf.learners,
      members: Object.entries(st.progress ?? {})
        .map(([id, p]) => ({id, match: p.match, next: p.next, lag: st.lastIndex - p.match, state: p.state, learner: p.learner, active: p.recentActive}))
        .sort((a, b) => a.id.localeCompare(b.id)),
      snapshot: {index: snap.index, term: snap.term},
      leadTransferee: st.leadTransferee,
    };
  }
}
