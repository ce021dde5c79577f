/**
 * The Raft core's data types and the contract between its layers (see README.md).
 * A leaf module: it imports nothing, so the core, its storage implementations, the driver and the
 * simulator all share these shapes.
 */

/** A member's id (a swarm node id). NONE means "nobody" (no vote, no known leader). */
export type NodeId = string;
export const NONE: NodeId = '';

export type EntryType = 'normal' | 'conf';

/** A log entry. `data` is opaque to the core, except for `conf` entries (an encoded ConfChange). */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must survive a crash before any message that depends on it is sent. */
export interface HardState {
  term: number;
  /** Who we voted for in `term`, or NONE. */
  vote: NodeId;
  /** Highest index known committed. Invariant: commit <= last persisted index. */
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** Single-server membership change: one member added, promoted or removed per entry. */
export type ConfChange = {op: 'add-voter'; node: NodeId} | {op: 'add-learner'; node: NodeId} | {op: 'remove'; node: NodeId};

export interface SnapshotMeta {
  /** Last index the snapshot covers, and that entry's term. */
  index: number;
  term: number;
  conf: ConfState;
}

export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

export type MessageType =
  | 'prevote'
  | 'prevote-resp'
  | 'vote'
  | 'vote-resp'
  | 'append'
  | 'append-resp'
  | 'heartbeat'
  | 'heartbeat-resp'
  | 'snapshot'
  | 'propose' // a follower forwarding proposals to the leader
  | 'read-index' // a follower forwarding a read to the leader
  | 'read-index-resp'
  | 'timeout-now'; // leadership transfer: "campaign now"

/**
 * A Raft message. Fields unused by a type are zero/empty. `term` is the sender's term (0 for
 * `propose`, which carries no term); for `prevote` it is the term the sender would campaign in.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** append: term of the entry at `index` (the one before `entries`); votes: candidate's last log term. */
  logTerm: number;
  /** append: index before `entries`; votes: candidate's last index; responses: see the core. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** append-resp on reject: the follower's hint where to retry (its last index, or a conflicting index). */
  rejectHint: number;
  snapshot?: Snapshot;
  /** read-index and heartbeats: opaque request context. */
  context?: string;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export interface SoftState {
  leader: NodeId;
  role: Role;
}

/** A linearizable read became safe: once `applied >= index`, serve the read identified by `ctx`. */
export interface ReadState {
  index: number;
  ctx: string;
}

/**
 * What the caller must do, in this order, then call `advance(ready)`:
 *  1. persist `hardState` (if set), `entries` (append, replacing any conflicting suffix) and
 *     `snapshot` (if set) durably (fsync);
 *  2. send `messages` (they may depend on 1: a vote or an append acknowledgement);
 *  3. apply `snapshot` (if set) then `committedEntries` to the state machine, in order;
 *  4. serve `readStates` whose index is applied.
 * The arrays are owned by the caller after `ready()` returns.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
}

/** Read access the core needs to the persisted log. Implementations: in memory, and the WAL. */
export interface RaftStorage {
  /** Hard state and membership at start. */
  initialState(): {hardState: HardState; confState: ConfState};
  /** Entries in [lo, hi), at most `maxBytes` of data (always at least one). Throws CompactedError / UnavailableError. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry `i`; valid for firstIndex()-1 <= i <= lastIndex(). Throws CompactedError / UnavailableError. */
  term(i: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (meta.index 0 when none). */
  snapshot(): Snapshot;
}

export class CompactedError extends Error {
  override readonly name = 'CompactedError';
}
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before campaigning; the actual timeout is randomised in [electionTick, 2*electionTick). */
  electionTick: number;
  heartbeatTick: number;
  /** The only source of randomness: a seeded generator returning [0, 1). */
  rand: () => number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Max bytes of entry data per append message. */
  maxSizePerMsg: number;
  /** Max append messages in flight to one follower (pipelining window). */
  maxInflightMsgs: number;
  /** Index already applied at start (after a restart from a snapshot + WAL). */
  applied?: number;
}

/** The status the driver and `swarm consensus status` report. */
export interface Progress {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  learner: boolean;
  recentActive: boolean;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  lastIndex: number;
  conf: ConfState;
  /** Only on the leader. */
  progress?: Record<NodeId, Progress>;
  leadTransferee: NodeId;
}

/**
 * What a driver does with a Ready: the write side of storage. The in-memory and the file (WAL)
 * implementations share one compliance suite. Every method is durable when it returns (the file
 * implementation fsyncs), which is what lets the driver send messages right after.
 */
export interface WritableRaftStorage extends RaftStorage {
  setHardState(hs: HardState): void;
  /**
   * One Ready's entries and hard state, durable together (the file storage: one write, one fsync).
   * A change of commit alone need not be synced at once: a lost commit index is learned again.
   */
  save(hs: HardState | undefined, entries: Entry[]): void;
  /** Appends entries, replacing any existing suffix from the first new index (a conflict). Entries at or below the snapshot index are ignored. */
  append(entries: Entry[]): void;
  /** Replaces the log with a snapshot received from the leader (ignored if not newer). */
  applySnapshot(snap: Snapshot): void;
  /** Records a snapshot of the applied state at `index` and compacts the log up to it. */
  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot;
  /** Drops entries up to and including `index`. */
  compact(index: number): void;
}
