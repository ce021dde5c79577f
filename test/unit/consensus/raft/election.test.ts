import {ELECTION, Harness, fmt} from './harness.js';

describe('raft interaction: elections', () => {
  test('a single node becomes leader at once and commits its empty entry', () => {
    const h = new Harness(['1']);
    h.campaign('1');
    expect(h.role('1')).toBe('leader');
    expect(h.term('1')).toBe(1);
    expect(h.commit('1')).toBe(1);
    expect(h.queue).toEqual([]);

    // Same with pre-vote, and via an election timeout rather than an explicit campaign.
    const p = new Harness(['1'], {config: {preVote: true}});
    p.tick('1', ELECTION - 1);
    expect(p.role('1')).toBe('follower');
    p.tick('1');
    expect(p.role('1')).toBe('leader');
    expect(p.term('1')).toBe(1);
  });

  test('3 nodes: a candidate wins with a majority, everyone follows it in its term', () => {
    const h = new Harness(['1', '2', '3']);
    h.tick('1', ELECTION); // election timeout (rand 0: exactly electionTick)
    expect(h.role('1')).toBe('candidate');
    expect(h.queue.map(fmt)).toEqual(['1->2 vote t1 log 0/0', '1->3 vote t1 log 0/0']);

    expect(h.deliver().map(fmt)).toEqual(['1->2 vote t1 log 0/0', '1->3 vote t1 log 0/0']);
    expect(h.queue.map(fmt)).toEqual(['2->1 vote-resp t1', '3->1 vote-resp t1']);
    h.deliver({only: (m) => m.from === '2'});
    expect(h.role('1')).toBe('leader'); // 2 of 3 is enough
    h.stabilize();
    for (const id of ['1', '2', '3']) {
      expect(h.term(id)).toBe(1);
      expect(h.lead(id)).toBe('1');
      expect(h.commit(id)).toBe(1);
    }
    expect(h.status('2').hardState.vote).toBe('1');
    expect(h.node('2').storage.initialState().hardState).toEqual({term: 1, vote: '1', commit: 1});
  });

  test('a candidate whose log is not up to date cannot win (§5.4.1)', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    h.propose('1', 'a');
    h.stabilize();
    expect(h.commit('1')).toBe(2);
    expect(h.lastIndex('3')).toBe(1);
    h.heal();

    h.campaign('3'); // term 2, last log 1/1 against their 1/2
    const answers = h.stabilize().filter((m) => m.type === 'vote-resp');
    expect(answers.map(fmt)).toEqual(['1->3 vote-resp t2 reject hint 0', '2->3 vote-resp t2 reject hint 0']);
    expect(h.role('3')).toBe('follower');
    expect(h.leaders()).toEqual([]); // the higher term deposed 1 (no check-quorum lease here)

    h.campaign('2');
    h.stabilize();
    expect(h.leaders()).toEqual(['2']);
    expect(h.term('2')).toBe(3);
    expect(h.applied('3')).toEqual(['a']); // the entry survived and reached 3
  });

  test('a vote is persisted: a node does not vote twice in a term, even after a restart', () => {
    const h = new Harness(['1', '2', '3']);
    h.campaign('1');
    h.campaign('3'); // both candidates in term 1
    h.deliver({only: (m) => m.from === '1' && m.to === '2'});
    expect(h.queue.filter((m) => m.from === '2').map(fmt)).toEqual(['2->1 vote-resp t1']);
    expect(h.node('2').storage.initialState().hardState).toEqual({term: 1, vote: '1', commit: 0});

    h.restart('2');
    expect(h.status('2').hardState).toEqual({term: 1, vote: '1', commit: 0});
    h.deliver({only: (m) => m.from === '3' && m.to === '2'});
    expect(h.queue.filter((m) => m.from === '2' && m.to === '3').map(fmt)).toEqual(['2->3 vote-resp t1 reject hint 0']);

    // A duplicate of the request it already granted is granted again (idempotent).
    h.inject({type: 'vote', from: '1', to: '2', term: 1});
    expect(h.queue.filter((m) => m.from === '2' && m.to === '1').map(fmt)).toEqual(['2->1 vote-resp t1', '2->1 vote-resp t1']);
    h.stabilize();
    expect(h.leaders()).toEqual(['1']);
  });

  test('without pre-vote, a partitioned node raises its term (the problem pre-vote solves)', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    h.tick('3', 3 * ELECTION);
    h.stabilize();
    expect(h.term('3')).toBe(4);
    expect(h.role('3')).toBe('candidate');
  });

  test('pre-vote: a partitioned node keeps campaigning without raising its term, and on heal does not disrupt', () => {
    const h = new Harness(['1', '2', '3'], {config: {preVote: true}});
    h.elect('1');
    expect(h.term('1')).toBe(1);
    h.isolate('3');
    h.propose('1', 'x'); // 3 falls behind: its pre-votes cannot be granted
    h.stabilize();
    expect(h.commit('1')).toBe(2);

    h.tick('3', 5 * ELECTION);
    h.stabilize();
    expect(h.role('3')).toBe('pre-candidate');
    expect(h.term('3')).toBe(1);
    const prevotes = h.lost.filter((m) => m.from === '3');
    expect(prevotes.length).toBe(10); // 5 rounds x 2 peers
    expect(new Set(prevotes.map(fmt))).toEqual(new Set(['3->1 prevote t2 log 1/1', '3->2 prevote t2 log 1/1']));
    expect(h.node('3').storage.initialState().hardState.term).toBe(1);

    h.heal();
    h.tick('3', ELECTION); // it campaigns once more, now reaching the others
    const answers = h.stabilize().filter((m) => m.type === 'prevote-resp');
    expect(answers.map(fmt)).toEqual(['1->3 prevote-resp t1 reject hint 0', '2->3 prevote-resp t1 reject hint 0']);
    expect(h.role('3')).toBe('follower');
    h.tickStabilize('1', 1); // a heartbeat
    expect(h.leaders()).toEqual(['1']);
    expect([h.term('1'), h.term('2'), h.term('3')]).toEqual([1, 1, 1]);
    expect(h.lead('3')).toBe('1');
    expect(h.applied('3')).toEqual(['x']);
  });

  test('pre-vote + check-quorum: with an equal log, the healed node is still ignored by nodes that hear the leader', () => {
    const h = new Harness(['1', '2', '3'], {config: {preVote: true, checkQuorum: true}});
    h.elect('1');
    h.isolate('3');
    h.tick('3', 3 * ELECTION);
    h.stabilize(); // its pre-votes are lost
    h.heal();
    h.tick('3', ELECTION);
    const out = h.stabilize();
    expect(out.filter((m) => m.type === 'prevote').length).toBe(2);
    expect(out.filter((m) => m.type === 'prevote-resp')).toEqual([]); // inside the leader lease: ignored
    h.tickStabilize('1', 1);
    expect(h.leaders()).toEqual(['1']);
    expect([h.term('1'), h.term('2'), h.term('3')]).toEqual([1, 1, 1]);
    expect(h.role('3')).toBe('follower');
  });

  test('check-quorum: a leader cut off from the majority steps down within an election timeout (two checks at most)', () => {
    const h = new Harness(['1', '2', '3'], {config: {checkQuorum: true}});
    h.elect('1');
    // A connected leader keeps leading.
    h.tickStabilize('1', 5 * ELECTION);
    expect(h.role('1')).toBe('leader');

    h.isolate('1');
    let ticks = 0;
    while (h.role('1') === 'leader' && ticks < 10 * ELECTION) {
      h.tick('1');
      h.stabilize();
      ticks++;
    }
    expect(h.role('1')).toBe('follower');
    // The marks set before the cut can carry it through one check, never two.
    expect(ticks).toBeLessThanOrEqual(2 * ELECTION);
    expect(h.term('1')).toBe(1);
    expect(h.lead('1')).toBe('');
  });

  test('leader lease: a follower that heard from the leader recently ignores a vote request', () => {
    const h = new Harness(['1', '2', '3'], {config: {checkQuorum: true}, perNode: {'2': {rand: () => 0.5}}});
    h.elect('1');
    h.isolate('3');
    h.tick('3', ELECTION);
    expect(h.role('3')).toBe('candidate');
    expect(h.term('3')).toBe(2);
    h.stabilize(); // its votes are lost
    h.heal();

    h.tick('3', ELECTION); // campaigns in term 3
    h.deliver({only: (m) => m.from === '3' && m.to === '2'});
    expect(h.term('2')).toBe(1); // still term 1: the request was ignored
    expect(h.lead('2')).toBe('1');
    expect(h.queue.filter((m) => m.from === '2')).toEqual([]);

    // Once 2 has not heard from the leader for an election timeout, the lease is over and it votes.
    h.tick('2', ELECTION); // 2's timeout is 15 (rand 0.5): it does not campaign itself yet
    expect(h.role('2')).toBe('follower');
    h.queue = [];
    h.tick('3', ELECTION); // term 4
    h.deliver({only: (m) => m.from === '3' && m.to === '2'});
    expect(h.term('2')).toBe(4);
    expect(h.queue.filter((m) => m.from === '2').map(fmt)).toEqual(['2->3 vote-resp t4']);
  });
});
