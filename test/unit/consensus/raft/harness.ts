/**
 * An interaction harness for the Raft core, in the spirit of etcd-io/raft's data-driven
 * `testdata/*.txt` scripts: N RawNodes over MemoryStorage, a deterministic clock (explicit ticks)
 * and randomness (`rand`, default `() => 0`: every randomized election timeout is exactly
 * electionTick), and a network that only moves when the test says so.
 *
 * Every Ready is handled per its contract: persist (snapshot, entries, hard state), then queue the
 * messages, then apply the snapshot and the committed entries (conf entries go through
 * applyConfChange), then advance. Messages sit in `queue` until `deliver()` / `stabilize()`.
 */
import {MemoryStorage, RawNode, decodeConfChange, encodeConfChange} from '../../../../src/core/consensus/raft/index.js';
import type {ConfChange, ConfState, Entry, Message, NodeId, RaftConfig, ReadState, Ready, Status} from '../../../../src/core/consensus/raft/index.js';

export const ELECTION = 10;
export const HEARTBEAT = 1;

export interface HarnessOptions {
  /** Applied to every node (defaults: electionTick 10, heartbeatTick 1, rand () => 0, no preVote / checkQuorum). */
  config?: Partial<Omit<RaftConfig, 'id'>>;
  /** Per-node overrides on top of `config`. */
  perNode?: Record<NodeId, Partial<Omit<RaftConfig, 'id'>>>;
}

export interface HNode {
  id: NodeId;
  storage: MemoryStorage;
  raw: RawNode;
  config: RaftConfig;
  /** The state machine: the non-empty normal entries applied, in order. */
  sm: {index: number; data: string}[];
  appliedIndex: number;
  readStates: ReadState[];
  /** Membership as of the last applied conf change (or the snapshot). */
  conf: ConfState;
  /** Every Ready this node produced, for assertions. */
  readies: Ready[];
}

export interface DeliverOptions {
  /** Only messages matching this are taken off the queue this round; the rest stay queued. */
  only?: (m: Message) => boolean;
  /** Messages addressed to these nodes (or matching the predicate) are lost. */
  drop?: NodeId[] | ((m: Message) => boolean);
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One line per message, etcd-interaction style: `1->2 append t1 log 1/3 commit 2 [4/1 "x"]`. */
export function fmt(m: Message): string {
  const parts = [`${m.from}->${m.to}`, m.type, `t${m.term}`];
  if (m.type === 'append' || m.type === 'vote' || m.type === 'prevote') parts.push(`log ${m.logTerm}/${m.index}`);
  else if (m.index !== 0) parts.push(`i${m.index}`);
  if (m.commit !== 0) parts.push(`commit ${m.commit}`);
  if (m.reject) parts.push(`reject hint ${m.rejectHint}${m.logTerm ? `/${m.logTerm}` : ''}`);
  if (m.context) parts.push(`ctx ${m.context}`);
  if (m.snapshot) parts.push(`snap ${m.snapshot.meta.term}/${m.snapshot.meta.index}`);
  if (m.entries.length > 0) parts.push(`[${m.entries.map(fmtEntry).join(' ')}]`);
  return parts.join(' ');
}

export function fmtEntry(e: Entry): string {
  const body = e.type === 'conf' ? `conf ${dec.decode(e.data)}` : e.data.length === 0 ? '' : JSON.stringify(dec.decode(e.data));
  return `${e.term}/${e.index}${body ? ` ${body}` : ''}`;
}

export class Harness {
  readonly nodes = new Map<NodeId, HNode>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Every message delivered (stepped into its recipient), in order. */
  readonly delivered: Message[] = [];
  /** Every message lost (dropped by a partition or a `drop` option). */
  readonly lost: Message[] = [];
  private groups = new Map<NodeId, number>();
  private partitioned = false;
  private blockedLinks = new Set<string>();

  constructor(
    voters: NodeId[],
    private readonly opts: HarnessOptions = {},
  ) {
    for (const id of voters) this.addNode(id, {voters});
  }

  // ---- nodes ---------------------------------------------------------------------------------------

  /** Adds a node; `voters` is its bootstrap membership (use the cluster's initial one for a node joining later). */
  addNode(id: NodeId, o: {voters: NodeId[]; storage?: MemoryStorage}): HNode {
    const storage = o.storage ?? MemoryStorage.bootstrap(o.voters);
    const config: RaftConfig = {
      id,
      electionTick: ELECTION,
      heartbeatTick: HEARTBEAT,
      rand: () => 0,
      preVote: false,
      checkQuorum: false,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      ...this.opts.config,
      ...this.opts.perNode?.[id],
    };
    const node: HNode = {id, storage, raw: undefined as unknown as RawNode, config, sm: [], appliedIndex: 0, readStates: [], conf: {voters: [], learners: []}, readies: []};
    this.nodes.set(id, node);
    this.boot(node);
    return node;
  }

  private boot(n: HNode): void {
    const snap = n.storage.snapshot();
    n.raw = new RawNode({...n.config, applied: snap.meta.index}, n.storage);
    n.sm = snap.data.length > 0 ? (JSON.parse(dec.decode(snap.data)) as HNode['sm']) : [];
    n.appliedIndex = snap.meta.index;
    n.conf = {voters: [...snap.meta.conf.voters], learners: [...snap.meta.conf.learners]};
    n.readStates = [];
    this.process(n.id);
  }

  node(id: NodeId): HNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Crash and restart: everything not in its MemoryStorage is lost; committed entries are re-applied. */
  restart(id: NodeId): void {
    this.boot(this.node(id));
  }

  // ---- Ready handling ------------------------------------------------------------------------------

  /** Handles every pending Ready of `id` (or of every node), per the Ready contract. */
  process(id?: NodeId): void {
    const ids = id === undefined ? [...this.nodes.keys()] : [id];
    for (const nid of ids) {
      const n = this.node(nid);
      for (let guard = 0; n.raw.hasReady(); guard++) {
        // A driver loops on hasReady(); one that never turns false is a livelock, reported rather than hung.
        if (guard >= 1000) throw new Error(`${nid}: hasReady() still true after 1000 Ready/advance cycles`);
        const rd = n.raw.ready();
        n.readies.push(rd);
        // 1. persist
        if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
        n.storage.append(rd.entries);
        if (rd.hardState) n.storage.setHardState(rd.hardState);
        // 2. send (deep copies: no two nodes share mutable objects)
        for (const m of rd.messages) this.queue.push(structuredClone(m));
        // 3. apply
        if (rd.snapshot) {
          const s = rd.snapshot;
          n.sm = s.data.length > 0 ? (JSON.parse(dec.decode(s.data)) as HNode['sm']) : [];
          n.appliedIndex = s.meta.index;
          n.conf = {voters: [...s.meta.conf.voters], learners: [...s.meta.conf.learners]};
        }
        for (const e of rd.committedEntries) this.apply(n, e);
        // 4. reads
        n.readStates.push(...rd.readStates);
        n.raw.advance(rd);
      }
    }
  }

  private apply(n: HNode, e: Entry): void {
    if (e.index !== n.appliedIndex + 1) throw new Error(`${n.id} applies ${e.index} after ${n.appliedIndex}`);
    n.appliedIndex = e.index;
    if (e.type === 'conf') {
      const cc = decodeConfChange(e.data);
      if (cc) n.conf = n.raw.applyConfChange(cc);
      return;
    }
    if (e.data.length > 0) n.sm.push({index: e.index, data: dec.decode(e.data)});
  }

  // ---- network -------------------------------------------------------------------------------------

  /** Splits the cluster: links between different groups are cut (messages on them are lost). Unlisted nodes are isolated. */
  partition(...groups: NodeId[][]): void {
    this.groups.clear();
    groups.forEach((g, k) => g.forEach((id) => this.groups.set(id, k)));
    this.partitioned = true;
  }

  /** Cuts every link to and from `id` (on top of any partition). */
  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.blockedLinks.add(`${id}>${other}`).add(`${other}>${id}`);
    }
  }

  /** Cuts the one-way link from -> to. */
  cut(from: NodeId, to: NodeId): void {
    this.blockedLinks.add(`${from}>${to}`);
  }

  heal(): void {
    this.partitioned = false;
    this.groups.clear();
    this.blockedLinks.clear();
  }

  blocked(from: NodeId, to: NodeId): boolean {
    if (this.blockedLinks.has(`${from}>${to}`)) return true;
    if (!this.partitioned) return false;
    const a = this.groups.get(from);
    const b = this.groups.get(to);
    return a === undefined || b === undefined || a !== b;
  }

  /**
   * One round: takes the queued messages (those matching `only`), and steps each into its recipient
   * (processing its Ready; what that sends is queued for a later round). Returns the delivered ones.
   */
  deliver(o: DeliverOptions = {}): Message[] {
    const take = o.only ?? (() => true);
    const now = this.queue.filter(take);
    this.queue = this.queue.filter((m) => !take(m));
    const drop = o.drop === undefined ? () => false : Array.isArray(o.drop) ? ((ids: NodeId[]) => (m: Message) => ids.includes(m.to))(o.drop) : o.drop;
    const out: Message[] = [];
    for (const m of now) {
      const to = this.nodes.get(m.to);
      if (!to || this.blocked(m.from, m.to) || drop(m)) {
        this.lost.push(m);
        continue;
      }
      to.raw.step(m);
      this.delivered.push(m);
      out.push(m);
      this.process(m.to);
    }
    return out;
  }

  /** Processes Readys and delivers messages until nothing moves. Returns everything delivered. */
  stabilize(o: DeliverOptions = {}): Message[] {
    const out: Message[] = [];
    for (let round = 0; ; round++) {
      if (round > 10_000) throw new Error('stabilize: no quiescence after 10000 rounds');
      this.process();
      const take = o.only ?? (() => true);
      if (!this.queue.some(take)) return out;
      out.push(...this.deliver(o));
    }
  }

  /** Removes and returns queued messages matching `pred` (without delivering them). */
  take(pred: (m: Message) => boolean = () => true): Message[] {
    const out = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return out;
  }

  /** Injects a hand-made message (missing fields zeroed) and delivers it at once (ignores partitions). */
  inject(m: Partial<Message> & Pick<Message, 'type' | 'from' | 'to'>): void {
    const full: Message = {term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m};
    this.node(full.to).raw.step(full);
    this.delivered.push(full);
    this.process(full.to);
  }

  // ---- time and local actions ----------------------------------------------------------------------

  tick(id: NodeId, n = 1): void {
    for (let k = 0; k < n; k++) {
      this.node(id).raw.tick();
      this.process(id);
    }
  }

  /** Ticks every node n times (processing, not delivering). */
  tickAll(n = 1): void {
    for (let k = 0; k < n; k++) for (const id of this.nodes.keys()) this.tick(id);
  }

  /** Ticks `id` once and stabilizes, `n` times: time passing on one node with a live network. */
  tickStabilize(id: NodeId, n = 1, o: DeliverOptions = {}): void {
    for (let k = 0; k < n; k++) {
      this.tick(id);
      this.stabilize(o);
    }
  }

  campaign(id: NodeId): void {
    this.node(id).raw.campaign();
    this.process(id);
  }

  propose(id: NodeId, data: string): void {
    this.node(id).raw.propose(enc.encode(data));
    this.process(id);
  }

  proposeConfChange(id: NodeId, cc: ConfChange): void {
    this.node(id).raw.proposeConfChange(cc);
    this.process(id);
  }

  readIndex(id: NodeId, ctx: string): void {
    this.node(id).raw.readIndex(ctx);
    this.process(id);
  }

  transfer(leader: NodeId, to: NodeId): void {
    this.node(leader).raw.transferLeader(to);
    this.process(leader);
  }

  /** Elects `id` with everything delivered (a convenience for a test's setup). */
  elect(id: NodeId): void {
    this.campaign(id);
    this.stabilize();
    if (this.role(id) !== 'leader') throw new Error(`elect: ${id} did not become leader (${this.describe()})`);
  }

  /** Writes a snapshot of `id`'s applied state and compacts its log up to it. */
  compact(id: NodeId, index?: number): void {
    const n = this.node(id);
    const at = index ?? n.appliedIndex;
    if (at > n.appliedIndex) throw new Error(`compact ${at} beyond applied ${n.appliedIndex}`);
    const data = enc.encode(JSON.stringify(n.sm.filter((e) => e.index <= at)));
    n.storage.createSnapshot(at, n.raw.status().conf, data);
  }

  // ---- observation ---------------------------------------------------------------------------------

  status(id: NodeId): Status {
    return this.node(id).raw.status();
  }
  role(id: NodeId): Status['softState']['role'] {
    return this.status(id).softState.role;
  }
  term(id: NodeId): number {
    return this.status(id).hardState.term;
  }
  commit(id: NodeId): number {
    return this.status(id).hardState.commit;
  }
  lead(id: NodeId): NodeId {
    return this.status(id).softState.leader;
  }
  lastIndex(id: NodeId): number {
    return this.status(id).lastIndex;
  }
  /** The state machine of `id`: applied non-empty entries' data. */
  applied(id: NodeId): string[] {
    return this.node(id).sm.map((e) => e.data);
  }
  /** `id`'s log (what raft sees, stable + unstable) from its first index, as `term/index data`. */
  log(id: NodeId): string[] {
    const l = this.node(id).raw.raft.log;
    return (l.slice(l.firstIndex(), l.lastIndex() + 1, Number.MAX_SAFE_INTEGER) ?? []).map(fmtEntry);
  }
  /** The leaders, by their own account. */
  leaders(): NodeId[] {
    return [...this.nodes.keys()].filter((id) => this.role(id) === 'leader');
  }
  dropped(id: NodeId): number {
    return this.node(id).raw.raft.dropped;
  }
  describe(): string {
    return [...this.nodes.keys()].map((id) => `${id}:${this.role(id)}@${this.term(id)} lead=${this.lead(id) || '-'} commit=${this.commit(id)} last=${this.lastIndex(id)}`).join(' | ');
  }
}

export {encodeConfChange};
