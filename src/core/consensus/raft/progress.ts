import type {Progress as ProgressStatus} from './types.js';

/**
 * Bounded window of in-flight append messages to one follower (pipelining): the last index each
 * message carried. Full means: wait for acknowledgements before sending more.
 */
export class Inflights {
  private readonly buf: number[] = [];
  constructor(readonly size: number) {}
  full(): boolean {
    return this.buf.length >= this.size;
  }
  add(last: number): void {
    this.buf.push(last);
  }
  /** Frees every message whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    let i = 0;
    while (i < this.buf.length && this.buf[i]! <= index) i++;
    this.buf.splice(0, i);
  }
  freeFirst(): void {
    this.buf.shift();
  }
  reset(): void {
    this.buf.length = 0;
  }
  get count(): number {
    return this.buf.length;
  }
}

/**
 * The leader's view of one follower. Invariant: match < next.
 * probe: one append at a time until we find where logs agree; replicate: pipeline within the window;
 * snapshot: waiting for a snapshot to land.
 */
export class Progress {
  match = 0;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot' = 'probe';
  /** probe: an append is out, wait for its answer (or a heartbeat answer). */
  paused = false;
  pendingSnapshot = 0;
  /** Ticks spent in snapshot state, to resend a snapshot that was lost. */
  snapshotTicks = 0;
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflight: number,
    public learner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
    } else {
      this.next = this.match + 1;
    }
    this.reset('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.reset('replicate');
  }

  becomeSnapshot(index: number): void {
    this.reset('snapshot');
    this.pendingSnapshot = index;
  }

  private reset(state: Progress['state']): void {
    this.state = state;
    this.paused = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.inflights.reset();
  }

  /** An acknowledgement up to `n`; true when it moved match forward. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.paused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** Optimistic: entries up to `n` are on their way. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * A rejection of the append at `rejected`; `hint` is where the follower suggests retrying.
   * False when the rejection is stale (a duplicate or for an old append).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.paused = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.paused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  status(): ProgressStatus {
    return {match: this.match, next: this.next, state: this.state, learner: this.learner, recentActive: this.recentActive};
  }
}
