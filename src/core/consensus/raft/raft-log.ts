import {assert} from '../../errors.js';
import {CompactedError, UnavailableError} from './types.js';
import type {Entry, RaftStorage, Snapshot} from './types.js';

/**
 * The log as the core sees it: what storage holds (stable) plus what is not yet persisted (unstable:
 * entries from `offset`, and maybe a snapshot). Invariants: applied <= committed <= lastIndex;
 * unstable.offset === (unstable snapshot index or storage.lastIndex()) + 1 after each change.
 */
export class RaftLog {
  committed: number;
  applied: number;
  /** Highest index handed out in a Ready's committedEntries but not yet advanced past. */
  private applying: number;
  private unstableEntries: Entry[] = [];
  private unstableOffset: number;
  private unstableSnapshot?: Snapshot;

  constructor(
    readonly storage: RaftStorage,
    private readonly maxApplyBytes = 64 * 1024 * 1024,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstableOffset = last + 1;
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstableSnapshot ? this.unstableSnapshot.meta.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstableEntries.length > 0) return this.unstableOffset + this.unstableEntries.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.meta.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term of entry `i`, or undefined when it is compacted away or beyond the log. */
  term(i: number): number | undefined {
    if (this.unstableSnapshot && i === this.unstableSnapshot.meta.index) return this.unstableSnapshot.meta.term;
    if (i >= this.unstableOffset && i < this.unstableOffset + this.unstableEntries.length) return this.unstableEntries[i - this.unstableOffset]!.term;
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    if (this.unstableSnapshot) return undefined; // below the unstable snapshot: gone
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Raft's up-to-date rule (§5.4.1): a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, lastIndex], at most `maxBytes` (at least one); undefined when lo is compacted. */
  entriesFrom(lo: number, maxBytes: number): Entry[] | undefined {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** Entries in [lo, hi); undefined when any is compacted away. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo < this.firstIndex()) return undefined;
    const out: Entry[] = [];
    let bytes = 0;
    if (lo < this.unstableOffset) {
      const stableHi = Math.min(hi, this.unstableOffset);
      try {
        for (const e of this.storage.entries(lo, stableHi, maxBytes)) {
          bytes += e.data.length;
          out.push(e);
        }
      } catch (err) {
        if (err instanceof CompactedError) return undefined;
        throw err;
      }
      if (out.length < stableHi - lo) return out; // size limit reached
    }
    for (let i = Math.max(lo, this.unstableOffset); i < hi; i++) {
      const e = this.unstableEntries[i - this.unstableOffset]!;
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /**
   * Follower side of AppendEntries: if our log matches (index, logTerm), append what conflicts or is
   * new and advance commit; returns the last index of the leader's entries, or undefined on mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(ci > this.committed, `entry ${ci} conflicts with committed entry (committed ${this.committed})`);
      this.append(ents.slice(ci - index - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** First index in `ents` whose term differs from ours or that we lack; 0 when all match. */
  private findConflict(ents: Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /**
   * For fast backtracking: the largest index <= `index` whose term is <= `term` (so the leader can
   * skip a whole term of conflicting entries in one round trip).
   */
  findConflictByTerm(index: number, term: number): number {
    for (let i = Math.min(index, this.lastIndex()); i >= this.firstIndex() - 1; i--) {
      const t = this.term(i);
      if (t === undefined) return i;
      if (t <= term) return i;
    }
    return Math.max(0, this.firstIndex() - 1);
  }

  /** Appends to the unstable tail, truncating any conflicting suffix. Returns the new last index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(after >= this.committed, `append after ${after} would overwrite committed ${this.committed}`);
    if (after === this.unstableOffset + this.unstableEntries.length - 1) {
      this.unstableEntries.push(...ents);
    } else if (after < this.unstableOffset) {
      // Replaces part of the stable log: the new unstable tail starts there.
      this.unstableOffset = after + 1;
      this.unstableEntries = [...ents];
    } else {
      this.unstableEntries = [...this.unstableEntries.slice(0, after + 1 - this.unstableOffset), ...ents];
    }
    return this.lastIndex();
  }

  commitTo(to: number): void {
    if (to > this.committed) {
      assert(to <= this.lastIndex(), `commit ${to} beyond last index ${this.lastIndex()}`);
      this.committed = to;
    }
  }

  /** Leader: commit `index` if it is from the current term (§5.4.2: never count older terms). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  // ---- Ready bookkeeping ---------------------------------------------------------------------------

  unstable(): Entry[] {
    return [...this.unstableEntries];
  }

  pendingSnapshot(): Snapshot | undefined {
    return this.unstableSnapshot;
  }

  hasNextCommitted(): boolean {
    return this.committed > Math.max(this.applying, this.firstIndex() - 1);
  }

  /** Committed entries not yet handed out for applying; marks them as being applied. */
  nextCommitted(): Entry[] {
    const lo = Math.max(this.applying, this.firstIndex() - 1) + 1;
    if (this.committed < lo) return [];
    const ents = this.slice(lo, this.committed + 1, this.maxApplyBytes) ?? [];
    if (ents.length > 0) this.applying = ents[ents.length - 1]!.index;
    return ents;
  }

  /** The caller persisted entries up to (index, term). */
  stableTo(index: number, term: number): void {
    const t = this.term(index);
    if (t === term && index >= this.unstableOffset) {
      this.unstableEntries = this.unstableEntries.slice(index + 1 - this.unstableOffset);
      this.unstableOffset = index + 1;
    }
  }

  stableSnapTo(index: number): void {
    if (this.unstableSnapshot?.meta.index === index) this.unstableSnapshot = undefined;
  }

  appliedTo(index: number): void {
    if (index <= this.applied) return;
    assert(index <= this.committed, `applied ${index} beyond committed ${this.committed}`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot from the leader: the whole log is replaced by it. */
  restore(s: Snapshot): void {
    this.committed = s.meta.index;
    this.unstableOffset = s.meta.index + 1;
    this.unstableEntries = [];
    this.unstableSnapshot = s;
  }

  /** After a snapshot is applied, the state machine is at its index. */
  snapshotApplied(index: number): void {
    this.applied = Math.max(this.applied, index);
    this.applying = Math.max(this.applying, index);
  }
}
