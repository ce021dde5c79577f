import {ReplayWindow} from '../../src/core/security/replay-window.js';

function take(w: ReplayWindow, n: number): boolean {
  if (!w.check(n)) return false;
  w.accept(n);
  return true;
}

describe('replay window', () => {
  test('accepts each counter once, in order', () => {
    const w = new ReplayWindow(64);
    for (let i = 0; i < 200; i++) expect(take(w, i)).toBe(true);
    for (let i = 150; i < 200; i++) expect(take(w, i)).toBe(false);
  });

  test('accepts reordered counters inside the window exactly once', () => {
    const w = new ReplayWindow(64);
    expect(take(w, 10)).toBe(true);
    expect(take(w, 5)).toBe(true);
    expect(take(w, 7)).toBe(true);
    expect(take(w, 5)).toBe(false);
    expect(take(w, 9)).toBe(true);
    expect(take(w, 10)).toBe(false);
  });

  test('refuses counters older than the window', () => {
    const w = new ReplayWindow(64);
    expect(take(w, 1000)).toBe(true);
    expect(take(w, 1000 - 63)).toBe(true);
    expect(take(w, 1000 - 64)).toBe(false);
    expect(take(w, 0)).toBe(false);
  });

  test('a large jump clears old state but keeps replays out', () => {
    const w = new ReplayWindow(64);
    for (let i = 0; i < 64; i++) take(w, i);
    expect(take(w, 10_000)).toBe(true);
    expect(take(w, 9_990)).toBe(true); // never seen, inside the window
    expect(take(w, 9_990)).toBe(false);
  });

  test('slots reused after wrap-around are cleared', () => {
    const w = new ReplayWindow(32);
    expect(take(w, 3)).toBe(true);
    expect(take(w, 40)).toBe(true); // slot 40%32 = 8; slots 4..39 cleared
    expect(take(w, 35)).toBe(true); // slot 3 reused for 35: must not look "seen"
    expect(take(w, 35)).toBe(false);
  });

  test('check does not mark: a forged frame (failed auth) cannot burn a counter', () => {
    const w = new ReplayWindow(64);
    expect(w.check(5)).toBe(true);
    expect(w.check(5)).toBe(true);
    expect(take(w, 5)).toBe(true);
  });

  test('refuses negative and non-integer counters', () => {
    const w = new ReplayWindow(64);
    expect(w.check(-1)).toBe(false);
    expect(w.check(1.5)).toBe(false);
    expect(w.check(Number.NaN)).toBe(false);
  });
});
