import {checkKvHistory, type KvInput, type KvOutput, type Operation} from '../../../src/core/consensus/check/index.js';
import {mulberry32} from '../../sim/rng.js';

// ---- helpers -----------------------------------------------------------------------------

const INF = Infinity;
let nextClient = 0;

function op(input: KvInput, call: number, ret: number, output?: KvOutput, clientId = nextClient++): Operation {
  return output === undefined ? {clientId, input, call, return: ret} : {clientId, input, call, return: ret, output};
}
const get = (k: string, value: string | null, call: number, ret: number): Operation =>
  op({op: 'get', key: k}, call, ret, {ok: true, value});
const put = (k: string, value: string, call: number, ret: number): Operation =>
  op({op: 'put', key: k, value}, call, ret, ret === INF ? undefined : {ok: true});
const del = (k: string, call: number, ret: number): Operation =>
  op({op: 'del', key: k}, call, ret, ret === INF ? undefined : {ok: true});
const cas = (k: string, expected: string | null, value: string, swapped: boolean | undefined, call: number, ret: number): Operation =>
  op({op: 'cas', key: k, expected, value}, call, ret, swapped === undefined ? undefined : swapped ? {ok: true} : {ok: false});


interface GenOptions {
  keys: string[];
  clients: number;
  total: number;
  /** Probability that an op never returns (it then takes effect or not, 50/50). */
  pendingRate: number;
}

/**
 * A history from a genuinely linearizable store: each client is sequential, every op gets a
 * random interval and a linearization point inside it, and outputs come from applying the ops
 * to a real map in linearization-point order. Every written value is unique, so a corrupted read
 * can be made a guaranteed violation.
 */
function generateHistory(rng: () => number, o: GenOptions): Operation[] {
  const clock = new Array<number>(o.clients).fill(0);
  const written = new Map<string, string[]>(o.keys.map((k) => [k, []]));
  const ops: {op: Operation; at: number | null}[] = [];
  let counter = 0;
  for (let i = 0; i < o.total; i++) {
    const c = Math.floor(rng() * o.clients);
    const key = o.keys[Math.floor(rng() * o.keys.length)]!;
    const call = clock[c]! + rng() * 3;
    const duration = rng() * 10;
    const r = rng();
    let input: KvInput;
    if (r < 0.4) input = {op: 'get', key};
    else if (r < 0.7) input = {op: 'put', key, value: `v${counter++}`};
    else if (r < 0.8) input = {op: 'del', key};
    else {
      const ws = written.get(key)!;
      const expected = rng() < 0.2 || ws.length === 0 ? null : ws[Math.max(0, ws.length - 1 - Math.floor(rng() * 3))]!;
      input = {op: 'cas', key, expected, value: `v${counter++}`};
    }
    if (input.op === 'put' || input.op === 'cas') written.get(key)!.push(input.value);
    if (rng() < o.pendingRate) {
      // Never returns; the client gives up after a timeout and moves on.
      const at = rng() < 0.5 ? call + rng() * 40 : null;
      ops.push({op: {clientId: c, input, call, return: INF}, at});
      clock[c] = call + 10;
    } else {
      const ret = call + duration;
      ops.push({op: {clientId: c, input, call, return: ret}, at: call + rng() * duration});
      clock[c] = ret;
    }
  }
  const effective = ops.filter((x) => x.at !== null).sort((a, b) => a.at! - b.at!);
  const store = new Map<string, string>();
  for (const {op: o2} of effective) {
    const cur = store.get(o2.input.key) ?? null;
    let output: KvOutput;
    switch (o2.input.op) {
      case 'get':
        output = {ok: true, value: cur};
        break;
      case 'put':
        store.set(o2.input.key, o2.input.value);
        output = {ok: true};
        break;
      case 'del':
        store.delete(o2.input.key);
        output = {ok: true};
        break;
      case 'cas':
        if (cur === o2.input.expected) {
          store.set(o2.input.key, o2.input.value);
          output = {ok: true};
        } else output = {ok: false};
        break;
    }
    if (o2.return !== INF) o2.output = output;
  }
  return ops.map((x) => x.op);
}

const completedGets = (h: Operation[]): number[] =>
  h.flatMap((o, i) => (o.input.op === 'get' && o.return !== INF ? [i] : []));

const withOutput = (h: Operation[], i: number, value: string | null): Operation[] =>
  h.map((o, j) => (j === i ? {...o, output: {ok: true as const, value}} : o));

const isWrite = (o: Operation): o is Operation & {input: {value: string}} => o.input.op === 'put' || o.input.op === 'cas';

/**
 * Guaranteed violations that get past the "value nobody wrote" pre-check, so the search itself
 * must refute them. Values are unique per write, so a get seeing v must follow v's only writer.
 * - future: v's writer was invoked after the get returned.
 * - stale: v's writer returned before a completed put was invoked, which returned before the
 *   get was invoked (or the writer was a cas that never swapped: then v was never written).
 */
function corruptions(h: Operation[], kind: 'future' | 'stale'): [number, string][] {
  const out: [number, string][] = [];
  for (const gi of completedGets(h)) {
    const g = h[gi]!;
    const sameKey = h.filter((o) => o.input.key === g.input.key);
    for (const w of sameKey.filter(isWrite)) {
      if (kind === 'future' && w.call > g.return) out.push([gi, w.input.value]);
      if (
        kind === 'stale' &&
        sameKey.some((p) => p.input.op === 'put' && p !== w && w.return < p.call && p.return < g.call)
      ) {
        out.push([gi, w.input.value]);
      }
    }
  }
  return out;
}

// ---- hand-made histories -----------------------------------------------------------------

describe('checkKvHistory: basics', () => {
  test('empty history and sequential history are linearizable', () => {
    expect(checkKvHistory([])).toEqual({ok: true});
    const h = [put('x', 'a', 0, 1), get('x', 'a', 2, 3), del('x', 4, 5), get('x', null, 6, 7), put('x', 'b', 8, 9), get('x', 'b', 10, 11)];
    expect(checkKvHistory(h).ok).toBe(true);
  });

  test('a get concurrent with a put may see either value', () => {
    expect(checkKvHistory([put('x', 'a', 0, 10), get('x', null, 1, 5)]).ok).toBe(true);
    expect(checkKvHistory([put('x', 'a', 0, 10), get('x', 'a', 1, 5)]).ok).toBe(true);
    expect(checkKvHistory([put('x', 'a', 5, 10), get('x', 'a', 1, 6)]).ok).toBe(true);
  });

  test('a stale read after a completed write is not linearizable', () => {
    const r = checkKvHistory([put('x', 'a', 0, 1), put('x', 'b', 2, 3), get('x', 'a', 4, 5)]);
    expect(r.ok).toBe(false);
    expect(r.timedOut).toBeUndefined();
    expect(r.key).toBe('x');
    expect(r.explanation).toContain('get("x") -> "a"');
  });

  test('a read cannot precede the write it observes', () => {
    expect(checkKvHistory([get('x', 'a', 0, 1), put('x', 'a', 2, 3)]).ok).toBe(false);
  });

  test('two sequential gets during a put: old-then-new ok, new-then-old not', () => {
    const before = put('x', 'a', -5, -4);
    const w = put('x', 'b', 0, 10);
    expect(checkKvHistory([before, w, get('x', 'a', 1, 2), get('x', 'b', 3, 4)]).ok).toBe(true);
    expect(checkKvHistory([before, w, get('x', 'b', 1, 2), get('x', 'a', 3, 4)]).ok).toBe(false);
    // Overlapping gets may be ordered either way.
    expect(checkKvHistory([before, w, get('x', 'b', 1, 3), get('x', 'a', 2, 4)]).ok).toBe(true);
  });

  test('a read of a value nobody wrote is not linearizable', () => {
    const r = checkKvHistory([put('x', 'a', 0, 5), get('x', 'zzz', 1, 6)]);
    expect(r.ok).toBe(false);
    expect(r.key).toBe('x');
    expect(r.explanation).toContain('"zzz", which no operation on key "x" writes');
    expect(checkKvHistory([get('x', 'a', 0, 1)]).ok).toBe(false);
    // Same for a cas that claims to have swapped on a value nobody wrote.
    expect(checkKvHistory([put('x', 'a', 0, 1), cas('x', 'q', 'b', true, 2, 3)]).explanation).toContain('"q"');
  });

  test('touching intervals are treated as concurrent', () => {
    expect(checkKvHistory([put('x', 'a', 0, 5), get('x', null, 5, 6)]).ok).toBe(true);
    expect(checkKvHistory([put('x', 'a', 0, 5), get('x', null, 5.001, 6)]).ok).toBe(false);
  });
});

describe('checkKvHistory: cas and del', () => {
  test('successful and failed cas', () => {
    const ok = [put('x', 'a', 0, 1), cas('x', 'a', 'b', true, 2, 3), cas('x', 'a', 'c', false, 4, 5), get('x', 'b', 6, 7)];
    expect(checkKvHistory(ok).ok).toBe(true);
    // Claims a swap although the value was 'b', not 'a'.
    expect(checkKvHistory([put('x', 'b', 0, 1), cas('x', 'a', 'c', true, 2, 3)]).ok).toBe(false);
    // Claims no swap although the value matched.
    expect(checkKvHistory([put('x', 'a', 0, 1), cas('x', 'a', 'c', false, 2, 3)]).ok).toBe(false);
    // A failed cas leaves the value alone.
    expect(checkKvHistory([put('x', 'a', 0, 1), cas('x', 'z', 'c', false, 2, 3), get('x', 'c', 4, 5)]).ok).toBe(false);
  });

  test('cas with expected null means "absent"', () => {
    expect(checkKvHistory([cas('x', null, 'a', true, 0, 1), get('x', 'a', 2, 3)]).ok).toBe(true);
    expect(checkKvHistory([put('x', 'a', 0, 1), cas('x', null, 'b', true, 2, 3)]).ok).toBe(false);
    expect(checkKvHistory([put('x', 'a', 0, 1), del('x', 2, 3), cas('x', null, 'b', true, 4, 5)]).ok).toBe(true);
    // The string "null" is not absence.
    expect(checkKvHistory([put('x', 'null', 0, 1), cas('x', null, 'b', true, 2, 3)]).ok).toBe(false);
  });

  test('two concurrent create-if-absent: only one may win', () => {
    expect(checkKvHistory([cas('x', null, 'a', true, 0, 10), cas('x', null, 'b', false, 1, 9)]).ok).toBe(true);
    expect(checkKvHistory([cas('x', null, 'a', true, 0, 10), cas('x', null, 'b', true, 1, 9)]).ok).toBe(false);
  });

  test('del makes the key absent', () => {
    expect(checkKvHistory([put('x', 'a', 0, 1), del('x', 2, 3), get('x', null, 4, 5)]).ok).toBe(true);
    expect(checkKvHistory([put('x', 'a', 0, 1), del('x', 2, 3), get('x', 'a', 4, 5)]).ok).toBe(false);
    expect(checkKvHistory([put('x', 'a', 0, 1), del('x', 2, 6), get('x', 'a', 3, 4), get('x', null, 7, 8)]).ok).toBe(true);
  });
});

describe('checkKvHistory: ops that never returned', () => {
  test('a pending put that took effect', () => {
    expect(checkKvHistory([put('x', 'a', 0, INF), get('x', 'a', 5, 6)]).ok).toBe(true);
    // ...and took effect late, after other reads saw nothing.
    expect(checkKvHistory([put('x', 'a', 0, INF), get('x', null, 5, 6), get('x', 'a', 100, 101)]).ok).toBe(true);
  });

  test('a pending put that did not take effect', () => {
    expect(checkKvHistory([put('x', 'a', 0, INF), get('x', null, 5, 6), get('x', null, 7, 8)]).ok).toBe(true);
    expect(checkKvHistory([put('x', 'a', 0, INF)]).ok).toBe(true);
  });

  test('a pending op cannot take effect before its call, nor be undone', () => {
    expect(checkKvHistory([get('x', 'a', 0, 1), put('x', 'a', 2, INF)]).ok).toBe(false);
    expect(checkKvHistory([put('x', 'a', 0, INF), get('x', 'a', 5, 6), get('x', null, 7, 8)]).ok).toBe(false);
  });

  test('pending cas / del must be placed at the right point', () => {
    const h = [
      put('x', 'a', 0, 1),
      cas('x', 'a', 'b', undefined, 2, INF),
      get('x', 'b', 3, 4),
      put('x', 'c', 5, 6),
      get('x', 'c', 7, 8),
    ];
    expect(checkKvHistory(h).ok).toBe(true);
    // A pending del that must land between the two reads.
    expect(checkKvHistory([put('x', 'a', 0, 1), del('x', 2, INF), get('x', 'a', 3, 4), get('x', null, 5, 6)]).ok).toBe(true);
  });

  test('output of a pending op is ignored; pending gets are irrelevant', () => {
    const lying: Operation = {clientId: 1, input: {op: 'get', key: 'x'}, call: 0, return: INF, output: {ok: true, value: 'nope'}};
    expect(checkKvHistory([lying, put('x', 'a', 1, 2)]).ok).toBe(true);
  });
});

describe('checkKvHistory: multiple keys, budget, validation', () => {
  test('reports the one bad key among several', () => {
    const h = [
      put('x', '1', 0, 1),
      put('y', '1', 0, 1),
      put('z', '1', 0, 1),
      get('x', '1', 2, 3),
      put('y', '2', 2, 3),
      get('z', '1', 2, 3),
      get('y', '1', 4, 5), // stale
      get('x', '1', 4, 5),
    ];
    const r = checkKvHistory(h);
    expect(r.ok).toBe(false);
    expect(r.key).toBe('y');
    expect(r.explanation).toContain('"y"');
    // Same values on different keys do not interfere.
    expect(checkKvHistory([put('x', 'a', 0, 1), get('y', null, 2, 3), get('x', 'a', 2, 3)]).ok).toBe(true);
  });

  test('running out of budget is reported as undecided, never as ok', () => {
    const h = generateHistory(mulberry32(7), {keys: ['k'], clients: 8, total: 100, pendingRate: 0});
    const r = checkKvHistory(h, {maxSteps: 10});
    expect(r).toMatchObject({ok: false, timedOut: true, key: 'k'});
    expect(r.explanation).toMatch(/budget exhausted/);
    expect(checkKvHistory(h).ok).toBe(true);
  });

  test('malformed histories throw', () => {
    expect(() => checkKvHistory([op({op: 'get', key: 'x'}, 5, 4, {ok: true, value: null})])).toThrow(RangeError);
    expect(() => checkKvHistory([op({op: 'get', key: 'x'}, NaN, 4, {ok: true, value: null})])).toThrow(RangeError);
    expect(() => checkKvHistory([op({op: 'get', key: 'x'}, 0, 4)])).toThrow(TypeError);
    expect(() => checkKvHistory([op({op: 'get', key: 'x'}, 0, 4, {ok: true})])).toThrow(TypeError);
    expect(() => checkKvHistory([op({op: 'put', key: 'x', value: 'a'}, 0, 4, {ok: false})])).toThrow(TypeError);
    expect(() => checkKvHistory([{clientId: 0, input: {op: 'inc', key: 'x'} as unknown as KvInput, call: 0, return: INF}])).toThrow(TypeError);
    expect(() => checkKvHistory([], {maxSteps: -1})).toThrow(RangeError);
  });

  test('is deterministic', () => {
    const h = generateHistory(mulberry32(3), {keys: ['a', 'b'], clients: 4, total: 60, pendingRate: 0.05});
    const bad = withOutput(h, completedGets(h)[10]!, 'never-written');
    expect(checkKvHistory(bad)).toEqual(checkKvHistory(bad));
  });
});

// ---- randomized histories ----------------------------------------------------------------

describe('checkKvHistory: randomized histories from a linearizable store', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

  test.each(seeds)('seed %i: genuine history is ok; corrupted reads are not', (seed) => {
    const rng = mulberry32(seed);
    const h = generateHistory(rng, {keys: ['a', 'b', 'c'], clients: 1 + (seed % 6), total: 150, pendingRate: 0.04});
    const genuine = checkKvHistory(h);
    expect(genuine).toEqual({ok: true});

    const gets = completedGets(h);
    expect(gets.length).toBeGreaterThan(5);

    // Corruption 1: a read of a value nobody ever wrote.
    const g1 = gets[Math.floor(rng() * gets.length)]!;
    const r1 = checkKvHistory(withOutput(h, g1, 'never-written'));
    expect(r1.ok).toBe(false);
    expect(r1.timedOut).toBeUndefined();
    expect(r1.key).toBe(h[g1]!.input.key);

    // Corruptions 2 and 3: reads from the future and stale reads (see corruptions()); these
    // reach the search rather than the pre-check.
    for (const kind of ['future', 'stale'] as const) {
      const pairs = corruptions(h, kind);
      expect(pairs.length).toBeGreaterThan(0);
      const [gi, v] = pairs[Math.floor(rng() * pairs.length)]!;
      const r = checkKvHistory(withOutput(h, gi, v));
      expect(r.ok).toBe(false);
      expect(r.timedOut).toBeUndefined();
      expect(r.key).toBe(h[gi]!.input.key);
      expect(r.explanation).toMatch(/^no linearization/);
    }
  });

  test('performance: 5 keys x 200 ops, 8 concurrent clients', () => {
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
    for (const seed of [101, 202, 303]) {
      const rng = mulberry32(seed);
      const h = generateHistory(rng, {keys, clients: 8, total: 1000, pendingRate: 0.01});
      let t0 = performance.now();
      expect(checkKvHistory(h)).toEqual({ok: true});
      const okMs = performance.now() - t0;

      // Corrupt a late read on the last-checked key (keys go in order of first appearance) so
      // the failing check still searches every key, and most of that key's history.
      const lastKey = [...new Set(h.map((o) => o.input.key))].pop()!;
      const [g, v] = corruptions(h, 'stale').filter(([i]) => h[i]!.input.key === lastKey).pop()!;
      t0 = performance.now();
      const bad = checkKvHistory(withOutput(h, g, v));
      const badMs = performance.now() - t0;
      expect(bad).toMatchObject({ok: false, key: lastKey});
      expect(bad.timedOut).toBeUndefined();
      expect(okMs).toBeLessThan(5000);
      expect(badMs).toBeLessThan(5000);
    }
  });
});
