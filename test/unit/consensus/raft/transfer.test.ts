import {ProposalDroppedError} from '../../../../src/core/consensus/raft/index.js';
import {ELECTION, Harness, fmt} from './harness.js';

describe('raft interaction: leadership transfer', () => {
  test('to an up-to-date follower: timeout-now at once, it leads the next term', () => {
    // check-quorum on: the transferee's votes must get through the others' leader lease.
    const h = new Harness(['1', '2', '3'], {config: {checkQuorum: true, preVote: true}});
    h.elect('1');
    h.transfer('1', '2');
    expect(h.queue.map(fmt)).toEqual(['1->2 timeout-now t1']);
    expect(h.status('1').leadTransferee).toBe('2');
    const out = h.stabilize().map(fmt);
    expect(out.slice(0, 3)).toEqual(['1->2 timeout-now t1', '2->1 vote t2 log 1/1 ctx transfer', '2->3 vote t2 log 1/1 ctx transfer']);
    expect(h.leaders()).toEqual(['2']);
    expect(h.term('2')).toBe(2);
    for (const id of ['1', '3']) {
      expect(h.lead(id)).toBe('2');
      expect(h.term(id)).toBe(2);
    }
    expect(h.status('2').leadTransferee).toBe('');
  });

  test('to a lagging follower: the leader catches it up first, then sends timeout-now', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    for (const v of ['a', 'b', 'c']) h.propose('1', v);
    h.stabilize();
    h.heal();
    h.transfer('1', '3');
    expect(h.queue.filter((m) => m.type === 'timeout-now')).toEqual([]);
    const out = h.stabilize().map(fmt);
    const caughtUp = out.indexOf('3->1 append-resp t1 i4');
    const timeoutNow = out.indexOf('1->3 timeout-now t1');
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(caughtUp);
    expect(h.leaders()).toEqual(['3']);
    expect(h.term('3')).toBe(2);
    expect(h.applied('3')).toEqual(['a', 'b', 'c']);
  });

  test('proposals during a transfer are dropped', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    h.propose('1', 'a');
    h.stabilize();
    h.transfer('1', '3'); // 3 is unreachable: the transfer stays pending
    expect(() => h.propose('1', 'during')).toThrow(ProposalDroppedError);
    expect(() => h.node('1').raw.proposeConfChange({op: 'remove', node: '2'})).toThrow(ProposalDroppedError);
    // A proposal forwarded by a follower is dropped silently (counted).
    const before = h.dropped('1');
    h.propose('2', 'forwarded');
    h.stabilize();
    expect(h.dropped('1')).toBe(before + 1);
    expect(h.lastIndex('1')).toBe(2);

    h.heal();
    h.tickStabilize('1', 1); // the transfer now completes
    expect(h.leaders()).toEqual(['3']);
    h.propose('3', 'after');
    h.stabilize();
    for (const id of ['1', '2', '3']) expect(h.applied(id)).toEqual(['a', 'after']);
  });

  test('a transfer that cannot complete times out after an election timeout; the leader keeps leading', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.isolate('3');
    h.transfer('1', '3');
    h.tickStabilize('1', ELECTION - 1);
    expect(h.status('1').leadTransferee).toBe('3');
    expect(() => h.propose('1', 'x')).toThrow(ProposalDroppedError);
    h.tickStabilize('1', 1);
    expect(h.status('1').leadTransferee).toBe('');
    expect(h.role('1')).toBe('leader');
    expect(h.term('1')).toBe(1);
    h.propose('1', 'y');
    h.stabilize();
    expect(h.applied('2')).toEqual(['y']);
  });

  test('transfers to itself, a learner or a stranger are ignored; a follower cannot start one', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.addNode('4', {voters: ['1', '2', '3']});
    h.proposeConfChange('1', {op: 'add-learner', node: '4'});
    h.stabilize();
    for (const to of ['1', '4', '9']) {
      h.transfer('1', to);
      expect(h.status('1').leadTransferee).toBe('');
      expect(h.queue).toEqual([]);
    }
    h.transfer('2', '3');
    expect(h.queue).toEqual([]);
    expect(h.leaders()).toEqual(['1']);
  });
});
