/**
 * A deterministic simulator for the Raft core (TigerBeetle VOPR style): the real production cores of
 * every node run in one process on virtual time; the network, crashes and client load come from one
 * seeded Rng. Invariants are checked after every event; the client history is checked for
 * linearizability at the end. Any failure throws an error naming the seed.
 */
import {MemoryStorage, RawNode, decodeConfChange, ProposalDroppedError} from '../../src/core/consensus/raft/index.js';
import type {ConfChange, Entry, Message, NodeId, Ready} from '../../src/core/consensus/raft/index.js';
import type {KvInput, KvOutput, Operation} from '../../src/core/consensus/check/index.js';
import {checkKvHistory} from '../../src/core/consensus/check/index.js';
import {Rng} from './rng.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Virtual ms of the safety phase (faults on). */
  faultMs: number;
  /** Virtual ms the liveness phase may take to converge. */
  healMs: number;
  clients: number;
  keys: number;
  /** Fault probabilities; derived from the seed when omitted. */
  dropRate?: number;
  dupRate?: number;
  crashRate?: number;
  partitionRate?: number;
  membershipChanges?: boolean;
  snapshotEvery?: number;
}

const TICK_MS = 10;
const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 1;
const OP_TIMEOUT_MS = 1500;

interface Cmd {
  client: number;
  req: number;
  input: KvInput;
}

interface SimNode {
  id: NodeId;
  disk: MemoryStorage;
  raw?: RawNode;
  kv: Map<string, string>;
  /** Per client: highest request applied (dedupe: a duplicated proposal applies once). */
  seen: Map<number, number>;
  applied: number;
  pendingReads: Map<string, {index?: number; op: number}>;
  crashedUntil: number;
}

interface InFlight {
  at: number;
  seq: number;
  m: Message;
}

interface ClientState {
  busy?: {op: number; node: NodeId; deadline: number; req: number; kind: 'write' | 'read'};
  req: number;
  nextAt: number;
  /** Liveness: an op issued after the heal completed. */
  healedDone: boolean;
}

export class SimFailure extends Error {
  override readonly name = 'SimFailure';
}

export interface SimResult {
  seed: number;
  events: number;
  ops: number;
  completed: number;
  leaders: number;
  crashes: number;
  maxTerm: number;
}

export class RaftSim {
  private readonly rng: Rng;
  private now = 0;
  private seq = 0;
  private events = 0;
  private readonly nodes = new Map<NodeId, SimNode>();
  private net: InFlight[] = [];
  private blocked = new Set<string>();
  private readonly history: (Operation & {cmd: string})[] = [];
  private readonly clients: ClientState[] = [];
  /** Invariant witnesses. */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly committed = new Map<number, string>();
  private crashes = 0;
  private readonly drop: number;
  private readonly dup: number;
  private readonly crash: number;
  private readonly partition: number;
  private faults = true;
  private readonly ids: NodeId[];

  constructor(private readonly o: SimOptions) {
    this.rng = new Rng(o.seed);
    // One seed decides everything, including how hostile this run is.
    this.drop = o.dropRate ?? this.rng.next() * 0.15;
    this.dup = o.dupRate ?? this.rng.next() * 0.05;
    this.crash = o.crashRate ?? this.rng.next() * 0.01;
    this.partition = o.partitionRate ?? this.rng.next() * 0.015;
    this.ids = Array.from({length: o.nodes}, (_, i) => `n${i + 1}`);
    for (const id of this.ids) {
      const node: SimNode = {id, disk: MemoryStorage.bootstrap(this.ids), kv: new Map(), seen: new Map(), applied: 0, pendingReads: new Map(), crashedUntil: 0};
      this.nodes.set(id, node);
      this.boot(node);
    }
    for (let c = 0; c < o.clients; c++) this.clients.push({req: 0, nextAt: this.rng.int(200), healedDone: false});
  }

  private fail(what: string): never {
    throw new SimFailure(`seed ${this.o.seed}: ${what} (t=${this.now}ms, event ${this.events}); replay: npm run sim -- --seed ${this.o.seed} --nodes ${this.o.nodes}`);
  }

  private boot(n: SimNode): void {
    n.raw = new RawNode(
      {id: n.id, electionTick: ELECTION_TICK, heartbeatTick: HEARTBEAT_TICK, rand: this.rng.fork(), preVote: true, checkQuorum: true, maxSizePerMsg: 4096, maxInflightMsgs: 16, applied: n.disk.snapshot().meta.index},
      n.disk,
    );
    // The state machine restarts from the snapshot; committed entries after it are re-applied.
    const snap = n.disk.snapshot();
    n.kv = new Map();
    n.seen = new Map();
    if (snap.data.length > 0) {
      const s = JSON.parse(new TextDecoder().decode(snap.data)) as {kv: [string, string][]; seen: [number, number][]};
      n.kv = new Map(s.kv);
      n.seen = new Map(s.seen);
    }
    n.applied = snap.meta.index;
    // Membership is re-derived from the snapshot plus re-applied conf entries.
    n.pendingReads.clear();
  }

  run(): SimResult {
    const end = this.o.faultMs;
    while (this.now < end) this.stepOnce();
    // Liveness phase: heal everything, restart the crashed, no new faults; it must converge.
    this.faults = false;
    this.blocked.clear();
    for (const n of this.nodes.values()) if (!n.raw) this.restart(n);
    const deadline = this.now + this.o.healMs;
    let converged = false;
    while (this.now < deadline) {
      this.stepOnce();
      if (this.now % 200 === 0 && this.convergedState()) {
        converged = true;
        break;
      }
    }
    if (!converged) this.fail(`no convergence within ${this.o.healMs}ms after healing (${this.describe()})`);
    this.checkLogMatching();
    // Pending client ops at the end stay pending (they may or may not have taken effect).
    const res = checkKvHistory(this.history);
    if (!res.ok) this.fail(`history not linearizable on key ${res.key}: ${res.explanation}`);
    const maxTerm = Math.max(...[...this.nodes.values()].map((n) => n.raw?.status().hardState.term ?? 0));
    return {seed: this.o.seed, events: this.events, ops: this.history.length, completed: this.history.filter((h) => h.return !== Infinity).length, leaders: this.leaderOfTerm.size, crashes: this.crashes, maxTerm};
  }

  private describe(): string {
    return [...this.nodes.values()].map((n) => `${n.id}:${n.raw ? `${n.raw.status().softState.role}@${n.raw.status().hardState.term} applied ${n.applied}` : 'down'}`).join(' ');
  }

  /** Liveness: one leader, every node up and applied to the same index with the same state, clients idle or done. */
  private convergedState(): boolean {
    // Membership as the leader has applied it: a node removed while it was partitioned may never learn
    // of its removal (it keeps a stale view, as in etcd) and is no longer part of the cluster.
    const leaders = [...this.nodes.values()].filter((n) => n.raw?.status().softState.role === 'leader');
    const voters = new Set(leaders.length === 1 ? leaders[0]!.raw!.status().conf.voters : []);
    const live = [...this.nodes.values()].filter((n) => voters.has(n.id));
    if (leaders.length !== 1 || !live.includes(leaders[0]!)) return false;
    const leaderCommit = leaders[0]!.raw!.status().hardState.commit;
    if (live.some((n) => n.applied !== leaderCommit)) return false;
    const state = JSON.stringify([...live[0]!.kv].sort());
    if (live.some((n) => JSON.stringify([...n.kv].sort()) !== state)) this.fail('converged nodes have different state machines');
    return this.clients.every((c) => c.busy === undefined && c.healedDone);
  }

  // ---- the event loop ------------------------------------------------------------------------------

  private stepOnce(): void {
    this.events++;
    // Deliver due messages in (time, seq) order.
    this.net.sort((a, b) => a.at - b.at || a.seq - b.seq);
    while (this.net.length > 0 && this.net[0]!.at <= this.now) {
      const f = this.net.shift()!;
      const to = this.nodes.get(f.m.to);
      if (!to?.raw) continue;
      to.raw.step(f.m);
      this.process(to);
    }
    if (this.now % TICK_MS === 0) {
      for (const n of this.nodes.values()) {
        if (!n.raw) {
          if (this.now >= n.crashedUntil) this.restart(n);
          continue;
        }
        n.raw.tick();
        this.process(n);
      }
      this.clientsAct();
      if (this.faults) this.maybeFault();
    }
    this.now += 1;
  }

  private restart(n: SimNode): void {
    this.boot(n);
    this.process(n);
  }

  private maybeFault(): void {
    if (this.rng.chance(this.crash)) {
      // Half the crashes hit the leader: that is where the interesting failures are.
      const leader = [...this.nodes.values()].find((n) => n.raw?.status().softState.role === 'leader');
      const victim = leader && this.rng.chance(0.5) ? leader.id : this.rng.pick(this.ids);
      const n = this.nodes.get(victim)!;
      if (n.raw) {
        // Crash: memory is lost, the disk (what was persisted) stays.
        n.raw = undefined;
        n.crashedUntil = this.now + 200 + this.rng.int(2000);
        this.crashes++;
      }
    }
    if (this.rng.chance(this.partition)) {
      this.blocked.clear();
      const kind = this.rng.int(3);
      if (kind === 0) {
        // Isolate one node (maybe the leader: a minority leader must not commit).
        const lone = this.rng.pick(this.ids);
        for (const other of this.ids) if (other !== lone) this.blocked.add(`${lone}>${other}`).add(`${other}>${lone}`);
      } else if (kind === 1) {
        // Split into two groups.
        const side = new Set(this.ids.filter(() => this.rng.chance(0.5)));
        for (const a of this.ids) for (const b of this.ids) if (side.has(a) !== side.has(b)) this.blocked.add(`${a}>${b}`);
      } else {
        // Asymmetric: a few one-way links.
        for (let k = 0; k < this.ids.length; k++) this.blocked.add(`${this.rng.pick(this.ids)}>${this.rng.pick(this.ids)}`);
      }
    } else if (this.rng.chance(this.partition * 2)) {
      this.blocked.clear();
    }
    if (this.o.membershipChanges && this.rng.chance(0.0015)) this.maybeChangeMembership();
  }

  private maybeChangeMembership(): void {
    const leader = [...this.nodes.values()].find((n) => n.raw?.status().softState.role === 'leader');
    if (!leader?.raw) return;
    const conf = leader.raw.status().conf;
    let cc: ConfChange;
    const absent = this.ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id));
    if (conf.learners.length > 0) cc = {op: 'add-voter', node: conf.learners[0]!};
    else if (absent.length > 0) cc = {op: 'add-learner', node: absent[0]!};
    else if (conf.voters.length > 3) cc = {op: 'remove', node: this.rng.pick(conf.voters.filter((v) => v !== leader.id))};
    else return;
    try {
      leader.raw.proposeConfChange(cc);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
    this.process(leader);
  }

  private send(m: Message): void {
    if (this.blocked.has(`${m.from}>${m.to}`)) return;
    if (this.faults && this.rng.chance(this.drop)) return;
    const copies = this.faults && this.rng.chance(this.dup) ? 2 : 1;
    for (let k = 0; k < copies; k++) {
      // Random delay reorders messages; deep copies so no two nodes share mutable objects.
      const delay = 1 + this.rng.int(this.faults ? 30 : 5);
      this.net.push({at: this.now + delay, seq: this.seq++, m: structuredClone(m)});
    }
  }

  // ---- Ready handling: persist, send, apply ---------------------------------------------------------

  private process(n: SimNode): void {
    const raw = n.raw;
    if (!raw) return;
    while (raw.hasReady()) {
      const rd = raw.ready();
      this.persist(n, rd);
      for (const m of rd.messages) this.send(m);
      if (rd.snapshot) this.applySnapshot(n, rd);
      for (const e of rd.committedEntries) this.apply(n, e);
      raw.advance(rd);
      for (const rs of rd.readStates) {
        const r = n.pendingReads.get(rs.ctx);
        if (r) r.index = rs.index;
      }
      this.serveReads(n);
      if (rd.softState?.role === 'leader') this.onNewLeader(n);
      this.maybeSnapshot(n);
    }
  }

  private persist(n: SimNode, rd: Ready): void {
    if (rd.snapshot) n.disk.applySnapshot(rd.snapshot);
    n.disk.append(rd.entries);
    if (rd.hardState) n.disk.setHardState(rd.hardState);
  }

  private applySnapshot(n: SimNode, rd: Ready): void {
    const s = JSON.parse(new TextDecoder().decode(rd.snapshot!.data)) as {kv: [string, string][]; seen: [number, number][]};
    n.kv = new Map(s.kv);
    n.seen = new Map(s.seen);
    n.applied = rd.snapshot!.meta.index;
  }

  private maybeSnapshot(n: SimNode): void {
    const every = this.o.snapshotEvery ?? 40;
    if (n.applied - n.disk.snapshot().meta.index < every) return;
    const data = new TextEncoder().encode(JSON.stringify({kv: [...n.kv], seen: [...n.seen]}));
    n.disk.createSnapshot(n.applied, n.raw!.status().conf, data);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.applied + 1) this.fail(`${n.id} applied ${e.index} after ${n.applied}`);
    n.applied = e.index;
    const digest = `${e.term}:${e.type}:${Buffer.from(e.data).toString('base64')}`;
    const prior = this.committed.get(e.index);
    if (prior === undefined) this.committed.set(e.index, digest);
    else if (prior !== digest) this.fail(`state machine safety: ${n.id} applied a different entry at ${e.index}`);
    if (e.type === 'conf') {
      const cc = decodeConfChange(e.data);
      if (cc) {
        n.raw!.applyConfChange(cc);
      }
      return;
    }
    if (e.data.length === 0) return;
    const cmd = JSON.parse(new TextDecoder().decode(e.data)) as Cmd;
    if ((n.seen.get(cmd.client) ?? -1) >= cmd.req) return; // a duplicate of an applied request
    n.seen.set(cmd.client, cmd.req);
    const out = runKv(n.kv, cmd.input);
    // The client's op completes when the node it talks to applies it.
    const c = this.clients[cmd.client]!;
    if (c.busy && c.busy.req === cmd.req && c.busy.node === n.id && c.busy.kind === 'write') this.complete(c, this.history[c.busy.op]!, out);
  }

  private serveReads(n: SimNode): void {
    for (const [ctx, r] of n.pendingReads) {
      if (r.index === undefined || n.applied < r.index) continue;
      n.pendingReads.delete(ctx);
      const h = this.history[r.op]!;
      const c = this.clients[h.clientId]!;
      if (!c.busy || c.busy.op !== r.op) continue;
      this.complete(c, h, runKv(n.kv, h.input));
    }
  }

  // ---- clients -------------------------------------------------------------------------------------

  private clientsAct(): void {
    this.clients.forEach((c, clientId) => {
      if (c.busy) {
        if (this.now > c.busy.deadline) {
          // Timed out: the op stays pending forever in the history (it may still take effect).
          c.busy = undefined;
          c.nextAt = this.now + this.rng.int(100);
        }
        return;
      }
      if (this.now < c.nextAt) return;
      if (!this.faults && c.healedDone) return; // after the heal, each client needs one op through
      this.issue(clientId, c);
    });
  }

  /** Marks a client's op complete (and, after the heal, that liveness was shown). */
  private complete(c: ClientState, h: Operation, output: KvOutput): void {
    h.return = this.now;
    h.output = output;
    c.busy = undefined;
    c.nextAt = this.now + this.rng.int(50);
    if (!this.faults) c.healedDone = true;
  }

  private issue(clientId: number, c: ClientState): void {
    const up = [...this.nodes.values()].filter((n) => n.raw);
    if (up.length === 0) return;
    // Prefer a node that believes it leads (as a real client would after a redirect).
    const leader = up.find((n) => n.raw!.status().softState.role === 'leader');
    const node = leader && this.rng.chance(0.7) ? leader : this.rng.pick(up);
    const key = `k${this.rng.int(this.o.keys)}`;
    const r = this.rng.int(10);
    const value = `v${this.seq}`;
    const input: KvInput =
      r < 4 ? {op: 'get', key} : r < 7 ? {op: 'put', key, value} : r < 8 ? {op: 'del', key} : {op: 'cas', key, expected: this.rng.chance(0.5) ? null : `v${this.rng.int(this.seq + 1)}`, value};
    const req = ++c.req;
    const op = this.history.length;
    try {
      if (input.op === 'get') {
        const ctx = `r${clientId}-${req}`;
        node.pendingReads.set(ctx, {op});
        node.raw!.readIndex(ctx);
      } else {
        const cmd: Cmd = {client: clientId, req, input};
        node.raw!.propose(new TextEncoder().encode(JSON.stringify(cmd)));
      }
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      node.pendingReads.delete(`r${clientId}-${req}`);
      c.nextAt = this.now + 50; // refused at once: it had no effect, so it is not part of the history
      return;
    }
    this.history.push({clientId, input, call: this.now, return: Infinity, cmd: `${clientId}:${req}`});
    c.busy = {op, node: node.id, deadline: this.now + OP_TIMEOUT_MS, req, kind: input.op === 'get' ? 'read' : 'write'};
    this.process(node);
  }

  // ---- invariants ----------------------------------------------------------------------------------

  private onNewLeader(n: SimNode): void {
    const st = n.raw!.status();
    const term = st.hardState.term;
    const prior = this.leaderOfTerm.get(term);
    if (prior !== undefined && prior !== n.id) this.fail(`election safety: ${prior} and ${n.id} both lead term ${term}`);
    this.leaderOfTerm.set(term, n.id);
    // Leader completeness: every entry committed so far is in the new leader's log.
    const log = n.raw!.raft.log;
    for (const [index, digest] of this.committed) {
      if (index < log.firstIndex()) continue; // covered by its snapshot
      const e = log.slice(index, index + 1, Number.MAX_SAFE_INTEGER)?.[0];
      if (!e) this.fail(`leader completeness: ${n.id} (term ${term}) lacks committed entry ${index}`);
      if (`${e.term}:${e.type}:${Buffer.from(e.data).toString('base64')}` !== digest) this.fail(`leader completeness: ${n.id} has a different entry at committed index ${index}`);
    }
  }

  /** Log matching: if two logs hold an entry with the same index and term, the logs are identical up to it. */
  private checkLogMatching(): void {
    const logs = [...this.nodes.values()].filter((n) => n.raw).map((n) => ({id: n.id, log: n.raw!.raft.log}));
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        const x = logs[a]!.log;
        const y = logs[b]!.log;
        const lo = Math.max(x.firstIndex(), y.firstIndex());
        const hi = Math.min(x.lastIndex(), y.lastIndex());
        let matchedAbove = false;
        for (let i = hi; i >= lo; i--) {
          const ex = x.slice(i, i + 1, Infinity)?.[0];
          const ey = y.slice(i, i + 1, Infinity)?.[0];
          if (!ex || !ey) continue;
          const same = ex.term === ey.term;
          if (same && Buffer.compare(Buffer.from(ex.data), Buffer.from(ey.data)) !== 0) this.fail(`log matching: ${logs[a]!.id} and ${logs[b]!.id} differ at ${i} with equal terms`);
          if (matchedAbove && !same) this.fail(`log matching: ${logs[a]!.id} and ${logs[b]!.id} agree above ${i} but not at ${i}`);
          if (same) matchedAbove = true;
        }
      }
    }
  }
}

function runKv(kv: Map<string, string>, input: KvInput): KvOutput {
  const cur = kv.get(input.key) ?? null;
  switch (input.op) {
    case 'get':
      return {ok: true, value: cur};
    case 'put':
      kv.set(input.key, input.value);
      return {ok: true};
    case 'del':
      kv.delete(input.key);
      return {ok: true};
    case 'cas':
      if (cur !== input.expected) return {ok: false};
      kv.set(input.key, input.value);
      return {ok: true};
  }
}
