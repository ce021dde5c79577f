import {PeerWatch} from '../../../src/core/snapshot/peer-watch.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('PeerWatch', () => {
  test('requests to a peer are aborted once it is declared dead; others are not', async () => {
    const dead = new Set<string>();
    const pw = new PeerWatch((p) => dead.has(p), 10);
    const a1 = pw.watch('a');
    const a2 = pw.watch('a');
    const b = pw.watch('b');
    expect(a1.signal).toBe(a2.signal); // one signal per peer
    await sleep(40);
    expect(a1.signal.aborted).toBe(false);
    dead.add('a');
    await sleep(40);
    expect(a1.signal.aborted).toBe(true);
    expect(b.signal.aborted).toBe(false);
    // A request started after the abort gets a fresh signal (the peer may come back).
    dead.delete('a');
    const a3 = pw.watch('a');
    expect(a3.signal.aborted).toBe(false);
    for (const w of [a1, a2, b, a3]) w.release();
    expect((pw as unknown as {timer: unknown}).timer).toBeUndefined(); // no poll while nothing is in flight
  });
});
