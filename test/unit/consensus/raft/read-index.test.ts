import {ProposalDroppedError} from '../../../../src/core/consensus/raft/index.js';
import {ELECTION, Harness, fmt} from './harness.js';

describe('raft interaction: ReadIndex', () => {
  test('on the leader: a ReadState only after a heartbeat quorum acknowledged', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.propose('1', 'a');
    h.stabilize();
    expect(h.commit('1')).toBe(2);

    h.readIndex('1', 'r1');
    expect(h.node('1').readStates).toEqual([]);
    expect(h.queue.map(fmt)).toEqual(['1->2 heartbeat t1 commit 2 ctx r1', '1->3 heartbeat t1 commit 2 ctx r1']);
    h.deliver();
    expect(h.queue.map(fmt)).toEqual(['2->1 heartbeat-resp t1 ctx r1', '3->1 heartbeat-resp t1 ctx r1']);
    h.deliver({only: (m) => m.from === '3'});
    expect(h.node('1').readStates).toEqual([{index: 2, ctx: 'r1'}]); // itself + 3 is a quorum
    h.stabilize();
    expect(h.node('1').readStates).toEqual([{index: 2, ctx: 'r1'}]); // 2's late ack adds nothing
  });

  test('on the leader: a lone heartbeat answer of a minority is not enough (5 nodes)', () => {
    const h = new Harness(['1', '2', '3', '4', '5']);
    h.elect('1');
    h.readIndex('1', 'r');
    h.deliver();
    h.deliver({only: (m) => m.from === '2'});
    expect(h.node('1').readStates).toEqual([]);
    h.deliver({only: (m) => m.from === '4'});
    expect(h.node('1').readStates).toEqual([{index: 1, ctx: 'r'}]);
  });

  test('on a follower: forwarded to the leader and answered with the leader commit index', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.propose('1', 'a');
    h.stabilize();
    h.readIndex('2', 'f1');
    expect(h.queue.map(fmt)).toEqual(['2->1 read-index t0 ctx f1']);
    const out = h.stabilize().map(fmt);
    expect(out).toContain('1->2 read-index-resp t1 i2 ctx f1');
    expect(h.node('2').readStates).toEqual([{index: 2, ctx: 'f1'}]);
    expect(h.node('1').readStates).toEqual([]); // served by the asker, not the leader
    expect(h.node('2').appliedIndex).toBeGreaterThanOrEqual(2); // so 2 can serve it now

    // A follower that knows no leader refuses at once.
    const lone = new Harness(['1', '2', '3']);
    expect(() => lone.readIndex('2', 'x')).toThrow(ProposalDroppedError);
  });

  test('a leader with no entry committed in its term refuses (no ReadState)', () => {
    const h = new Harness(['1', '2', '3']);
    h.campaign('1');
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('1')).toBe('leader');
    expect(h.commit('1')).toBe(0); // its empty 1/1 is not committed yet
    const before = h.dropped('1');
    h.readIndex('1', 'early');
    expect(h.dropped('1')).toBe(before + 1);
    expect(h.queue.filter((m) => m.context === 'early')).toEqual([]);
    h.stabilize();
    expect(h.commit('1')).toBe(1);
    expect(h.node('1').readStates).toEqual([]);

    // Once its own entry committed, reads work.
    h.readIndex('1', 'late');
    h.stabilize();
    expect(h.node('1').readStates).toEqual([{index: 1, ctx: 'late'}]);
  });

  test('a new leader that inherited an older-term commit still refuses until its own entry commits', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.propose('1', 'a');
    h.stabilize();
    h.campaign('2'); // term 2; 2 knows commit 2 from term 1
    h.stabilize({only: (m) => m.type === 'vote' || m.type === 'vote-resp'});
    expect(h.role('2')).toBe('leader');
    expect(h.commit('2')).toBe(2);
    h.readIndex('2', 'x');
    h.stabilize();
    expect(h.node('2').readStates).toEqual([]);
    h.readIndex('2', 'y');
    h.stabilize();
    expect(h.node('2').readStates).toEqual([{index: 3, ctx: 'y'}]);
  });

  test('a deposed (partitioned) leader never returns a ReadState', () => {
    for (const config of [{}, {checkQuorum: true}, {preVote: true, checkQuorum: true}]) {
      const h = new Harness(['1', '2', '3'], {config, perNode: {'3': {rand: () => 0.5}}});
      h.elect('1');
      h.partition(['1'], ['2', '3']);
      // Time passes on the majority side: 2 times out first and wins with 3 (whose lease has run out).
      for (let k = 0; k < 2 * ELECTION && h.role('2') !== 'leader'; k++) {
        h.tick('2');
        h.tick('3');
        h.stabilize();
      }
      expect(h.role('2')).toBe('leader');
      h.propose('2', 'new');
      h.stabilize();

      expect(h.role('1')).toBe('leader'); // it has not ticked: it still believes it leads
      h.readIndex('1', 'stale');
      h.tickStabilize('1', 3 * ELECTION);
      expect(h.node('1').readStates).toEqual([]);
      h.heal();
      h.tickStabilize('1', 2);
      h.tickStabilize('2', 2);
      expect(h.node('1').readStates).toEqual([]);
      expect(h.leaders()).toEqual(['2']);
      expect(h.applied('1')).toEqual(['new']);
    }
  });

  test('a deposed leader that hears the new term drops its pending reads', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.readIndex('1', 'r');
    h.take((m) => m.context === 'r'); // the heartbeats are in flight...
    h.campaign('2'); // ...when 2 takes over in term 2
    h.stabilize();
    expect(h.leaders()).toEqual(['2']);
    // Late acknowledgements (a term-1 answer would be stale anyway) change nothing.
    h.inject({type: 'heartbeat-resp', from: '3', to: '1', term: 2, context: 'r'});
    h.stabilize();
    expect(h.node('1').readStates).toEqual([]);
  });
});
