import type {Message} from '../../../../src/core/consensus/raft/index.js';
import {Harness, fmt} from './harness.js';

const enc = new TextEncoder();
const entry = (term: number, index: number, data = 'e') => ({term, index, type: 'normal' as const, data: enc.encode(data)});

/** A 3-node cluster with check-quorum: 1 leads term 1 with "a" committed at index 2. */
function cluster(): Harness {
  const h = new Harness(['1', '2', '3'], {config: {checkQuorum: true}});
  h.elect('1');
  h.propose('1', 'a');
  h.stabilize();
  return h;
}

function fingerprint(h: Harness, id: string): unknown {
  const s = h.status(id);
  return {hard: s.hardState, soft: s.softState, last: s.lastIndex, log: h.log(id), progress: s.progress};
}

/**
 * Steps `m` (a deliberately malformed message) into its recipient: it must not throw, must be
 * counted as dropped, and must change nothing and send nothing.
 */
function expectDropped(h: Harness, to: string, m: Partial<Message> & Pick<Message, 'type' | 'from'>): void {
  const before = fingerprint(h, to);
  const dropped = h.dropped(to);
  h.queue = [];
  expect(() => h.inject({to, ...m})).not.toThrow();
  expect(h.dropped(to)).toBe(dropped + 1);
  expect(fingerprint(h, to)).toEqual(before);
  expect(h.queue.map(fmt)).toEqual([]);
}

describe('raft interaction: robustness against malformed and stale messages', () => {
  test('a message for another node is dropped', () => {
    const h = cluster();
    const m = {type: 'append' as const, from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(1, 3)], commit: 3};
    h.queue = [];
    const before = fingerprint(h, '2');
    const dropped = h.dropped('2');
    h.node('2').raw.step({...m, to: '3', reject: false, rejectHint: 0});
    expect(h.dropped('2')).toBe(dropped + 1);
    expect(fingerprint(h, '2')).toEqual(before);
  });

  test.each([
    ['negative term', {term: -1}],
    ['NaN term', {term: NaN}],
    ['infinite term', {term: Infinity}],
    ['fractional term', {term: 1.5}],
    ['negative index', {index: -1}],
    ['NaN index', {index: NaN}],
    ['negative commit', {commit: -3}],
    ['NaN commit', {commit: NaN}],
    ['entries not an array', {entries: 'nope' as unknown as Message['entries']}],
  ])('an append with a %s is dropped', (_name, bad) => {
    const h = cluster();
    expectDropped(h, '2', {type: 'append', from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(1, 3)], commit: 2, ...bad});
  });

  test.each([
    ['vote', {type: 'vote' as const, from: '3', term: NaN, index: 2, logTerm: 1}],
    ['prevote', {type: 'prevote' as const, from: '3', term: -2, index: 2, logTerm: 1}],
    ['heartbeat', {type: 'heartbeat' as const, from: '1', term: 1, commit: NaN}],
    ['append-resp', {type: 'append-resp' as const, from: '2', term: 1, index: -1}],
    ['vote-resp', {type: 'vote-resp' as const, from: '2', term: 1.25}],
  ])('a %s with a bad number is dropped', (_name, m) => {
    const h = cluster();
    const to = m.type === 'append-resp' ? '1' : '2';
    expectDropped(h, to, m);
  });

  test('an append whose entries are not contiguous after its index is dropped', () => {
    const h = cluster();
    expectDropped(h, '2', {type: 'append', from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(1, 3), entry(1, 5)], commit: 2});
    expectDropped(h, '2', {type: 'append', from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(1, 4)], commit: 2});
    expectDropped(h, '2', {type: 'append', from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(1, 3), entry(1, 3)], commit: 2});
    // The well-formed one is accepted.
    h.inject({type: 'append', from: '1', to: '2', term: 1, index: 2, logTerm: 1, entries: [entry(1, 3), entry(1, 4)], commit: 2});
    expect(h.lastIndex('2')).toBe(4);
  });

  test('an append carrying entries of a term above the message term (or below its logTerm) is dropped', () => {
    const h = cluster();
    expectDropped(h, '2', {type: 'append', from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(2, 3)], commit: 2});
    expectDropped(h, '2', {type: 'append', from: '1', term: 2, index: 2, logTerm: 2, entries: [entry(1, 3)], commit: 2});
  });

  // Regression (found by this suite, fixed in raft.ts): an entry's own term (and index type,
  // data) is only compared (e.term > m.term, e.term < m.logTerm), never checked to be an integer: NaN
  // passes both comparisons and the follower appends a NaN-term entry. Then RawNode.advance ->
  // RaftLog.stableTo(index, NaN) never matches (NaN !== NaN, raft-log.ts ~line 335): hasReady() stays
  // true forever and the driver's Ready loop livelocks (the harness reports it after 1000 cycles).
  test('an append carrying an entry whose term is NaN is dropped', () => {
    const h = cluster();
    expectDropped(h, '2', {type: 'append', from: '1', term: 1, index: 2, logTerm: 1, entries: [entry(NaN, 3)], commit: 2});
  });

  // BUG (src/core/consensus/raft/raft.ts wellFormed ~line 347 + handleAppendResp ~line 392, progress.ts
  // maybeDecrTo): rejectHint is never validated. For a follower in probe state, a NaN hint makes
  // Progress.next NaN (Math.max(NaN, ...) is NaN), and the resend right after throws a TypeError from
  // MemoryStorage.term(NaN): one bad message crashes the leader's step().
  test('an append-resp rejection with a NaN rejectHint neither throws nor corrupts the progress', () => {
    const h = new Harness(['1', '2', '3']);
    h.campaign('1');
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('1')).toBe('leader');
    const pr = h.status('1').progress!['3']!;
    expect(pr.state).toBe('probe'); // a fresh leader probes; its probe to 3 is in flight
    h.take((m) => m.to === '3');
    expect(() => h.inject({type: 'append-resp', from: '3', to: '1', term: 1, index: pr.next - 1, reject: true, rejectHint: NaN})).not.toThrow();
    expect(Number.isSafeInteger(h.status('1').progress!['3']!.next)).toBe(true);
    expect(() => h.tickStabilize('1', 2)).not.toThrow();
    expect(h.commit('3')).toBe(1);
  });

  // Regression (found by this suite, fixed in raft.ts): a snapshot message's snapshot (meta.index,
  // meta.term, conf) is not validated; with meta.index NaN, restore() asks MemoryStorage.term(NaN),
  // which throws a TypeError out of step().
  test('a snapshot message with a NaN snapshot index neither throws nor installs anything', () => {
    const h = cluster();
    const snapshot = {meta: {index: NaN, term: 1, conf: {voters: ['1', '2', '3'], learners: []}}, data: new Uint8Array()};
    expect(() => h.inject({type: 'snapshot', from: '1', to: '2', term: 1, snapshot})).not.toThrow();
    expect(h.node('2').storage.snapshot().meta.index).toBe(0);
    expect(h.commit('2')).toBe(2);
  });

  test('stale-term messages are ignored (a deposed leader learns the new term from its followers)', () => {
    const h = new Harness(['1', '2', '3'], {config: {checkQuorum: true}, perNode: {'3': {rand: () => 0.5}}});
    h.elect('1');
    h.propose('1', 'a');
    h.stabilize();
    h.partition(['1'], ['2', '3']);
    for (let k = 0; k < 30 && h.role('2') !== 'leader'; k++) {
      h.tick('2');
      h.tick('3');
      h.stabilize();
    }
    expect(h.role('2')).toBe('leader');
    expect(h.term('2')).toBe(2);
    expect(h.role('1')).toBe('leader'); // it has not noticed yet
    h.heal();
    h.queue = [];

    // An old-term append and heartbeat to 3 change nothing; 3 answers with its term so 1 steps down.
    const before3 = fingerprint(h, '3');
    h.inject({type: 'append', from: '1', to: '3', term: 1, index: 2, logTerm: 1, entries: [entry(1, 3, 'stale')], commit: 3});
    h.inject({type: 'heartbeat', from: '1', to: '3', term: 1, commit: 2});
    expect(fingerprint(h, '3')).toEqual(before3);
    expect(h.queue.map(fmt)).toEqual(['3->1 append-resp t2', '3->1 append-resp t2']);
    h.deliver({only: (m) => m.to === '1'});
    expect(h.role('1')).toBe('follower');
    expect(h.term('1')).toBe(2);

    // An old-term vote, vote response or append response is ignored, without an answer.
    h.queue = [];
    const before2 = fingerprint(h, '2');
    h.inject({type: 'vote', from: '1', to: '2', term: 1, index: 99, logTerm: 1});
    h.inject({type: 'append-resp', from: '3', to: '2', term: 1, index: 99});
    h.inject({type: 'vote-resp', from: '3', to: '2', term: 1});
    expect(fingerprint(h, '2')).toEqual(before2);
    expect(h.queue).toEqual([]);
  });

  // Regression (found by this suite, fixed in raft.ts): only `m.term !== 0` messages are checked for
  // staleness, so a term-0 heartbeat/append (term 0 is meant only for propose and read-index) is taken as
  // coming from a current-term leader: the follower adopts the sender as leader and a heartbeat's commit
  // is applied unchecked.
  test('a term-0 heartbeat or append (only propose/read-index carry no term) is not taken from a leader', () => {
    const h = cluster();
    h.partition(['1', '2'], ['3']);
    h.propose('1', 'pending'); // 2/3 on 1 and 2, replicated but not yet committed on 2
    h.deliver(); // the append reaches 2; its ack is not delivered
    expect(h.lastIndex('2')).toBe(3);
    expect(h.commit('2')).toBe(2);
    h.queue = [];
    h.inject({type: 'heartbeat', from: '3', to: '2', term: 0, commit: 3});
    expect(h.lead('2')).toBe('1');
    expect(h.commit('2')).toBe(2);
  });

  test('seeded fuzz: mangled copies of real traffic never throw', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const nasty: unknown[] = [0, 1, -1, 2 ** 53, NaN, Infinity, -Infinity, 1.5, undefined, null, '1', 1e9];
    const fields = ['term', 'index', 'logTerm', 'commit', 'rejectHint', 'to', 'reject', 'context'] as const;
    const h = cluster();
    for (let round = 0; round < 30; round++) {
      const leader = h.leaders()[0];
      if (leader) h.propose(leader, `p${round}`);
      for (const id of ['1', '2', '3']) h.tick(id);
      for (const m of h.queue.splice(0)) {
        const bad = structuredClone(m) as unknown as Record<string, unknown>;
        const f = fields[Math.floor(rnd() * fields.length)]!;
        bad[f] = f === 'to' ? ['', '9', m.to][Math.floor(rnd() * 3)] : nasty[Math.floor(rnd() * nasty.length)];
        if (rnd() < 0.3 && m.entries.length > 0) (bad.entries as Record<string, unknown>[])[0]!.term = nasty[Math.floor(rnd() * nasty.length)];
        const target = h.nodes.get(m.to);
        if (!target) continue;
        expect(() => {
          target.raw.step(bad as unknown as Message);
          h.process(m.to);
        }).not.toThrow();
        h.queue.push(m);
      }
      h.stabilize();
    }
  });
});
