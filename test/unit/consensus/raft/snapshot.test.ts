import {MemoryStorage} from '../../../../src/core/consensus/raft/index.js';
import {ELECTION, Harness, fmt} from './harness.js';

/** 1 leads; 3 is cut off while ten entries commit; 1 and 2 compact their logs past what 3 has. */
function lagging(): Harness {
  const h = new Harness(['1', '2', '3']);
  h.elect('1');
  h.isolate('3');
  for (let k = 0; k < 10; k++) h.propose('1', `v${k}`);
  h.stabilize();
  expect(h.commit('1')).toBe(11);
  h.compact('1');
  h.compact('2');
  expect(h.node('1').storage.firstIndex()).toBe(12);
  expect(h.lastIndex('3')).toBe(1);
  h.heal();
  return h;
}

const values = Array.from({length: 10}, (_, k) => `v${k}`);

describe('raft interaction: snapshots', () => {
  test('a lagging follower whose entries were compacted gets a snapshot and catches up', () => {
    const h = lagging();
    h.tick('1');
    const out = h.stabilize().map(fmt);
    expect(out).toContain('1->3 snapshot t1 snap 1/11');
    expect(out).toContain('3->1 append-resp t1 i11');
    expect(h.applied('3')).toEqual(values);
    expect(h.node('3').appliedIndex).toBe(11);
    expect(h.commit('3')).toBe(11);
    expect(h.node('3').storage.snapshot().meta).toEqual({index: 11, term: 1, conf: {voters: ['1', '2', '3'], learners: []}});
    expect(h.node('3').storage.firstIndex()).toBe(12);
    expect(h.status('1').progress!['3']).toMatchObject({match: 11, next: 12, state: 'replicate'});

    // And it keeps up through ordinary appends afterwards.
    h.propose('1', 'after');
    const more = h.stabilize().map(fmt);
    expect(more.filter((l) => l.includes('snapshot'))).toEqual([]);
    expect(h.applied('3')).toEqual([...values, 'after']);
  });

  test('a lost snapshot is retried (after an election timeout in snapshot state)', () => {
    const h = lagging();
    h.tick('1');
    h.stabilize({drop: (m) => m.type === 'snapshot'});
    expect(h.lost.filter((m) => m.type === 'snapshot').length).toBe(1);
    expect(h.status('1').progress!['3']!.state).toBe('snapshot');
    expect(h.lastIndex('3')).toBe(1);

    let sent = 0;
    for (let k = 0; k < 2 * ELECTION && h.applied('3').length === 0; k++) {
      h.tick('1');
      sent += h.stabilize().filter((m) => m.type === 'snapshot').length;
    }
    expect(sent).toBe(1);
    expect(h.applied('3')).toEqual(values);
    expect(h.status('1').progress!['3']).toMatchObject({match: 11, state: 'replicate'});
    expect(h.role('1')).toBe('leader');
  });

  test('a follower restarted after installing a snapshot recovers its state from storage', () => {
    const h = lagging();
    h.tick('1');
    h.stabilize();
    h.propose('1', 'tail');
    h.stabilize();
    h.restart('3');
    expect(h.node('3').appliedIndex).toBe(12); // snapshot 11 + re-applied 12
    expect(h.applied('3')).toEqual([...values, 'tail']);
    expect(h.status('3').hardState).toEqual({term: 1, vote: '1', commit: 12});
  });

  test('a snapshot carries membership: a brand-new node (empty storage) learns the conf from it', () => {
    const h = lagging();
    h.tick('1');
    h.stabilize();
    h.compact('1');
    h.addNode('4', {voters: [], storage: new MemoryStorage()});
    h.proposeConfChange('1', {op: 'add-learner', node: '4'});
    h.stabilize();
    h.tickStabilize('1', 2);
    expect(h.delivered.filter((m) => m.type === 'snapshot' && m.to === '4').length).toBe(1);
    expect(h.node('4').conf).toEqual({voters: ['1', '2', '3'], learners: ['4']});
    expect(h.status('4').conf).toEqual({voters: ['1', '2', '3'], learners: ['4']});
    expect(h.applied('4')).toEqual(values);
    expect(h.commit('4')).toBe(h.commit('1'));
  });

  test('a stale snapshot (not newer than the follower commit) is not installed', () => {
    const h = new Harness(['1', '2', '3']);
    h.elect('1');
    h.propose('1', 'a');
    h.stabilize();
    h.compact('1');
    const snap = h.node('1').storage.snapshot();
    expect(snap.meta.index).toBe(2);
    h.inject({type: 'snapshot', from: '1', to: '2', term: 1, snapshot: snap});
    expect(h.node('2').storage.snapshot().meta.index).toBe(0);
    expect(h.queue.map(fmt)).toEqual(['2->1 append-resp t1 i2']);
    expect(h.applied('2')).toEqual(['a']);
  });
});
