import type * as zmq from 'zeromq';

/**
 * Serialises sends on one ZeroMQ socket (zeromq v6 allows one send in flight per socket) behind a
 * bounded queue. A full queue or a send that fails (high-water mark reached past the socket's
 * sendTimeout, EHOSTUNREACH from a `mandatory` ROUTER) is reported to `onDrop`, never a hang.
 */
export class SocketSender {
  private readonly queue: (Buffer | Buffer[])[] = [];
  private pumping?: Promise<void>;
  private closed = false;

  constructor(
    private readonly socket: zmq.Dealer | zmq.Router,
    private readonly maxQueued: number,
    private readonly onDrop: (err?: unknown) => void,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Queues a message; false (and counted through onDrop) when the queue is full or closed. */
  send(msg: Buffer | Buffer[]): boolean {
    if (this.closed || this.queue.length >= this.maxQueued) {
      this.onDrop();
      return false;
    }
    this.queue.push(msg);
    if (!this.pumping) this.pumping = this.pump();
    return true;
  }

  /**
   * Drops what is queued and resolves once no send is in flight. Close the socket only after this, so
   * the pump never hands a queued frame to a closed socket. (A send still blocked at the high-water
   * mark when its socket closes is only rejected: tried 100 times. The aborts once blamed on that were
   * the async-unbind race that Voyager.stop() now avoids.)
   */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.closed) {
        const msg = this.queue.shift()!;
        try {
          await this.socket.send(msg);
        } catch (err) {
          if (this.closed) return;
          this.onDrop(err);
        }
      }
    } finally {
      this.pumping = undefined;
    }
  }
}
