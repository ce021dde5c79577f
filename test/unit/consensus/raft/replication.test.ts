import {ProposalDroppedError} from '../../../../src/core/consensus/raft/index.js';
import {ELECTION, Harness, fmt} from './harness.js';

describe('raft interaction: log replication', () => {
  test('proposals replicate and commit with a majority, not without', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    h.propose('1', 'a');
    h.propose('1', 'b');
    h.stabilize();
    expect([h.commit('1'), h.commit('2')]).toEqual([3, 3]);
    expect(h.applied('1')).toEqual(['a', 'b']);
    expect(h.applied('2')).toEqual(['a', 'b']);
    expect(h.lastIndex('3')).toBe(1);

    h.partition(['1'], ['2'], ['3']); // no majority at all
    h.propose('1', 'c');
    h.stabilize();
    expect(h.lastIndex('1')).toBe(4);
    expect(h.commit('1')).toBe(3);
    expect(h.applied('1')).toEqual(['a', 'b']);

    h.heal();
    h.tickStabilize('1', 1); // a heartbeat round finds the gaps
    for (const id of ['1', '2', '3']) {
      expect(h.commit(id)).toBe(4);
      expect(h.applied(id)).toEqual(['a', 'b', 'c']);
    }
  });

  test("a follower's divergent uncommitted tail is overwritten by the new leader's log", () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.partition(['1'], ['2', '3']);
    h.propose('1', 'x');
    h.propose('1', 'y');
    h.stabilize();
    expect(h.log('1')).toEqual(['1/1', '1/2 "x"', '1/3 "y"']);
    expect(h.commit('1')).toBe(1);

    h.elect('2');
    h.propose('2', 'z');
    h.stabilize();
    expect(h.log('2')).toEqual(['1/1', '2/2', '2/3 "z"']);

    h.heal();
    h.tickStabilize('2', 1);
    expect(h.role('1')).toBe('follower');
    expect(h.term('1')).toBe(2);
    expect(h.log('1')).toEqual(['1/1', '2/2', '2/3 "z"']);
    expect(h.node('1').storage.entries(1, 4, Infinity).map((e) => `${e.term}/${e.index}`)).toEqual(['1/1', '2/2', '2/3']);
    expect(h.applied('1')).toEqual(['z']); // x and y were never committed, never applied
  });

  test('fast backtracking: a follower whose tail differs by a whole term is fixed in one rejection', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.partition(['1'], ['2', '3']);
    for (let k = 0; k < 20; k++) h.propose('1', `old${k}`); // 1/2 .. 1/21, never committed
    h.stabilize();
    h.elect('2');
    for (let k = 0; k < 20; k++) h.propose('2', `new${k}`); // 2/2 empty, 2/3 .. 2/22
    h.stabilize();
    h.elect('3'); // 3/23; a fresh leader probes 1 optimistically at its own last index
    expect(h.lastIndex('1')).toBe(21);
    expect(h.log('3').slice(-2)).toEqual(['2/22 "new19"', '3/23']);

    h.heal();
    h.tick('3');
    const out = h.stabilize().map(fmt);
    const rejections = out.filter((l) => l.startsWith('1->3 append-resp') && l.includes('reject'));
    // The probe after 2/22 is rejected with hint 21/1: the leader skips all of term 1 above its own 1/1.
    // Without the hint it would walk back one index per round trip (22 rejections).
    expect(rejections).toEqual(['1->3 append-resp t3 i22 reject hint 21/1']);
    expect(out).toContain('3->1 append t3 log 1/1 commit 23 [' + h.log('3').slice(1).join(' ') + ']');
    expect(h.log('1')).toEqual(h.log('3'));
    expect(h.applied('1')).toEqual(Array.from({length: 20}, (_, k) => `new${k}`));
  });

  test('fast backtracking: a follower far behind is probed at its last index at once', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    for (let k = 0; k < 30; k++) h.propose('1', `v${k}`);
    h.stabilize();
    h.heal();
    h.tick('1');
    const out = h.stabilize().map(fmt);
    expect(out.filter((l) => l.startsWith('3->1') && l.includes('reject')).length).toBe(1);
    expect(h.commit('3')).toBe(31);
  });

  test('figure 8: an entry of an older term is not committed by counting replicas', () => {
    // 5 nodes. maxSizePerMsg 0: every append carries one non-empty entry, so replication can be cut between entries.
    const h = new Harness(['1', '2', '3', '4', '5'], {config: {maxSizePerMsg: 0}});
    h.elect('1'); // term 1, 1/1 committed everywhere

    // (a) 1 leads term 1 and gets "a" (index 2) only onto 2.
    h.partition(['1', '2'], ['3', '4', '5']);
    h.propose('1', 'a');
    h.stabilize();
    expect(h.log('2')).toEqual(['1/1', '1/2 "a"']);
    expect(h.commit('1')).toBe(1);

    // (b) 5 wins term 2 with 3 and 4, appends 2/2, but is cut off before replicating it.
    h.partition(['1', '2'], ['3', '4', '5']);
    h.campaign('5');
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('5')).toBe('leader');
    h.isolate('5');
    h.stabilize();
    expect(h.log('5')).toEqual(['1/1', '2/2']);

    // (c) 1 crashes and restarts, wins term 3 with 2, 3 and 4 (its last entry 1/2 beats their 1/1), and replicates 1/2 onto 3.
    h.restart('1');
    h.heal();
    h.isolate('5');
    h.campaign('1'); // term 2: 3 and 4 already voted for 5 in term 2
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('1')).toBe('candidate');
    h.campaign('1'); // term 3
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('1')).toBe('leader');
    expect(h.term('1')).toBe(3);
    expect(h.log('1')).toEqual(['1/1', '1/2 "a"', '3/3']);
    h.take((m) => m.to === '4'); // 4 hears nothing more from 1 in this act
    // Let 3 get index 2 but not index 3: the probe is rejected, 1/2 alone is accepted, then 3/3 is lost.
    h.stabilize({drop: (m) => m.to === '4' || (m.to === '3' && m.type === 'append' && h.lastIndex('3') >= 2)});
    expect(h.log('3')).toEqual(['1/1', '1/2 "a"']);
    expect(h.log('2')).toEqual(['1/1', '1/2 "a"', '3/3']);
    // 1/2 is on 1, 2 and 3: a majority of 5. It must NOT be committed: it is not of the leader's term.
    expect(h.status('1').progress!['3']!.match).toBe(2);
    expect(h.commit('1')).toBe(1);
    expect(h.applied('1')).toEqual([]);

    // (d) Why: 1 fails; 5 (last entry 2/2) can win term 4 with 3 and 4, and overwrite index 2 everywhere.
    h.heal();
    h.isolate('1');
    h.queue = [];
    h.restart('5'); // it was cut off, still leading term 2: a crash and restart makes it a follower
    h.campaign('5'); // term 3: everyone already voted for 1 in term 3
    h.stabilize();
    expect(h.role('5')).toBe('follower');
    h.campaign('5'); // term 4: its last entry 2/2 beats 3's 1/2 and 4's 1/1 (2, holding 3/3, refuses)
    h.stabilize();
    expect(h.role('5')).toBe('leader');
    expect(h.term('5')).toBe(4);
    for (const id of ['2', '3', '4', '5']) expect(h.log(id).slice(0, 2)).toEqual(['1/1', '2/2']);
    expect(h.commit('5')).toBe(3); // 2/2 then 4/3: committed through 5's own-term entry
    for (const id of ['2', '3', '4', '5']) expect(h.applied(id)).toEqual([]); // "a" never took effect
  });

  test('figure 8, other ending: once an entry of its own term reaches a majority, the older one commits with it', () => {
    const h = new Harness(['1', '2', '3', '4', '5'], {config: {maxSizePerMsg: 0}});
    h.elect('1');
    h.partition(['1', '2'], ['3', '4', '5']);
    h.propose('1', 'a');
    h.stabilize();
    h.restart('1');
    h.heal();
    h.isolate('4');
    h.isolate('5');
    h.campaign('1'); // term 2, with 2 and 3
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('1')).toBe('leader');
    h.stabilize({drop: (m) => m.to === '3' && m.type === 'append' && h.lastIndex('3') >= 2});
    expect(h.log('3')).toEqual(['1/1', '1/2 "a"']);
    expect(h.commit('1')).toBe(1);

    h.propose('1', 'b'); // 2/4: 3 gets 2/3 and 2/4 now
    h.stabilize();
    expect(h.log('3')).toEqual(['1/1', '1/2 "a"', '2/3', '2/4 "b"']);
    expect(h.commit('1')).toBe(4);
    expect(h.applied('1')).toEqual(['a', 'b']);
    expect(h.applied('3')).toEqual(['a', 'b']);
  });

  test('lost appends are recovered: the next append finds the gap', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    expect(h.status('1').progress!['3']!.state).toBe('replicate');
    for (const v of ['a', 'b', 'c']) h.propose('1', v);
    h.stabilize({drop: (m) => m.to === '3' && m.type === 'append'});
    expect(h.lastIndex('3')).toBe(1);
    expect(h.commit('1')).toBe(4); // 1 and 2 are a majority

    h.propose('1', 'd');
    const out = h.stabilize().map(fmt);
    expect(out).toContain('3->1 append-resp t1 i4 reject hint 1/1');
    expect(h.applied('3')).toEqual(['a', 'b', 'c', 'd']);
    expect(h.status('1').progress!['3']).toMatchObject({match: 5, next: 6, state: 'replicate'});
  });

  test('lost appends are recovered by a heartbeat round, with no new proposal', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    for (const v of ['a', 'b']) h.propose('1', v);
    h.stabilize({drop: (m) => m.to === '3' && m.type === 'append'});
    expect(h.lastIndex('3')).toBe(1);
    h.tickStabilize('1', 1);
    expect(h.applied('3')).toEqual(['a', 'b']);
    expect(h.commit('3')).toBe(3);
  });

  test('pipelining: a full inflight window pauses sending; a heartbeat answer frees it', () => {
    const h = new Harness(['1', '2', '3'], {config: {maxInflightMsgs: 2}});
    h.elect('1');
    for (let k = 0; k < 5; k++) h.propose('1', `v${k}`);
    // Each proposal is one append per follower, until the window of 2 is full.
    expect(h.queue.filter((m) => m.to === '3' && m.type === 'append').length).toBe(2);
    expect(h.queue.filter((m) => m.to === '2' && m.type === 'append').length).toBe(2);
    h.stabilize({drop: ['3']});
    expect(h.commit('1')).toBe(6); // 2's acks reopened its window
    expect(h.status('1').progress!['3']).toMatchObject({match: 1, state: 'replicate'});
    expect(h.lastIndex('3')).toBe(1);

    h.tickStabilize('1', 1);
    expect(h.applied('3')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(h.status('1').progress!['3']).toMatchObject({match: 6, state: 'replicate'});
  });

  test('a follower forwards proposals to the leader; with no leader it refuses', () => {
    const h = new Harness(['1', '2', '3']);
    expect(() => h.propose('2', 'early')).toThrow(ProposalDroppedError);
    h.elect('1');
    h.propose('2', 'x');
    expect(h.queue.map(fmt)).toEqual(['2->1 propose t0 [0/0 "x"]']);
    h.stabilize();
    for (const id of ['1', '2', '3']) expect(h.applied(id)).toEqual(['x']);
    expect(h.log('1')).toEqual(['1/1', '1/2 "x"']);

    // A candidate refuses too (no leader known).
    h.isolate('3');
    h.tick('3', ELECTION);
    expect(h.role('3')).toBe('candidate');
    expect(() => h.propose('3', 'y')).toThrow(ProposalDroppedError);
  });

  test('a reordered (older) append does not truncate entries the follower already has', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.propose('1', 'a');
    const first = h.take((m) => m.to === '2'); // append [1/2 "a"] held back
    h.propose('1', 'b');
    h.stabilize();
    expect(h.log('2')).toEqual(['1/1', '1/2 "a"', '1/3 "b"']);
    h.queue.push(...first); // the old append arrives late
    h.stabilize();
    expect(h.log('2')).toEqual(['1/1', '1/2 "a"', '1/3 "b"']);
    expect(h.applied('2')).toEqual(['a', 'b']);
    expect(h.status('1').progress!['2']!.match).toBe(3);
  });
});
