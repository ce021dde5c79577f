/**
 * Abort signals for requests to peers, aborted when the failure detector declares the peer dead: a
 * transfer from a node killed mid-way fails within a poll instead of at its request timeout. One
 * signal and one poll timer are shared by all the requests in flight (the timer stops when none are).
 */
export class PeerWatch {
  private readonly watched = new Map<string, {ac: AbortController; users: number}>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Declared dead (not merely suspected: a busy peer may be slow to answer). */
    private readonly isDead: (peer: string) => boolean,
    private readonly pollMs = 250,
  ) {}

  /** A signal for one request to `peer`; call release() when the request has settled. */
  watch(peer: string): {signal: AbortSignal; release: () => void} {
    let w = this.watched.get(peer);
    if (!w) this.watched.set(peer, (w = {ac: new AbortController(), users: 0}));
    const mine = w;
    mine.users++;
    if (!this.timer) {
      this.timer = setInterval(() => this.poll(), this.pollMs);
      this.timer.unref();
    }
    return {
      signal: mine.ac.signal,
      release: () => {
        if (--mine.users === 0 && this.watched.get(peer) === mine) this.watched.delete(peer);
        if (this.watched.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  private poll(): void {
    for (const [peer, w] of this.watched) {
      if (!this.isDead(peer)) continue;
      w.ac.abort();
      this.watched.delete(peer);
    }
  }
}
