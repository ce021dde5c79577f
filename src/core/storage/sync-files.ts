import * as fs from 'node:fs';

/**
 * fsyncs and closes files on the thread pool while the caller goes on writing more: many files made
 * durable at the cost of about one fsync's wait. A bounded number are in flight (`room`); the first
 * error is kept and thrown by `room` or `drain`, never left as an unhandled rejection.
 *
 * Why not one syncfs(2) for them all: Node has no binding, and running `sync -f` forks the node, whose
 * every heap page is then copy-on-write: the next large operation paid ~45,000 page faults for it.
 */
export class FileSyncer {
  private readonly inflight = new Set<Promise<void>>();
  private error: unknown;

  constructor(private readonly window = 32) {}

  /** Takes over `fd`: it is fsynced, then closed. */
  add(fd: number): void {
    const p: Promise<void> = fsyncThenClose(fd)
      .catch((err: unknown) => {
        this.error ??= err;
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Resolves when another file may be added. */
  async room(): Promise<void> {
    while (this.inflight.size >= this.window) await Promise.race(this.inflight);
    this.throwIfFailed();
  }

  /** Resolves when every file added is durable and closed. */
  async drain(): Promise<void> {
    await Promise.all(this.inflight);
    this.throwIfFailed();
  }

  /** Waits for what is in flight, ignoring errors (a stream being abandoned). */
  async settle(): Promise<void> {
    await Promise.all(this.inflight);
  }

  private throwIfFailed(): void {
    if (this.error !== undefined) throw this.error;
  }
}

function fsyncThenClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.fsync(fd, (err) => {
      fs.close(fd, () => (err ? reject(err) : resolve()));
    });
  });
}
