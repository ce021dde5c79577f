import {Membership} from '../../src/core/node/membership.js';

const cfg = {heartbeatIntervalMs: 100, suspectAfterMs: 300, deadAfterMs: 1000};
const info = (id: string) => ({id, name: `n-${id}`, address: `tcp://127.0.0.1:${id}`, labels: {}, capacity: {cores: 1, memoryBytes: 1, gpus: 0}, fingerprint: 'SHA256:x'});

describe('membership failure detector', () => {
  test('alive -> suspect -> dead by silence, back to alive when seen', () => {
    const m = new Membership(cfg);
    expect(m.upsert(info('1'), 0)).toEqual({id: '1', from: 'dead', to: 'alive'});
    expect(m.tick(299)).toEqual([]);
    expect(m.tick(300)).toEqual([{id: '1', from: 'alive', to: 'suspect'}]);
    expect(m.tick(999)).toEqual([]);
    expect(m.tick(1000)).toEqual([{id: '1', from: 'suspect', to: 'dead'}]);
    expect(m.markSeen('1', 1100, 3)).toEqual({id: '1', from: 'dead', to: 'alive'});
    expect(m.get('1')).toMatchObject({state: 'alive', rttMs: 3, lastSeenMs: 1100});
  });

  test('a member that left stays left until it is seen again', () => {
    const m = new Membership(cfg);
    m.upsert(info('1'), 0);
    expect(m.markLeft('1')).toEqual({id: '1', from: 'alive', to: 'left'});
    expect(m.tick(5000)).toEqual([]);
    expect(m.get('1')?.state).toBe('left');
    // a heartbeat answer that was in flight when it left does not revive it
    expect(m.markSeen('1', 5100, 2)).toBeUndefined();
    expect(m.get('1')?.state).toBe('left');
    expect(m.upsert(info('1'), 6000)).toEqual({id: '1', from: 'left', to: 'alive'});
  });

  test('lastSeen never moves backwards', () => {
    const m = new Membership(cfg);
    m.upsert(info('1'), 500);
    m.markSeen('1', 200);
    expect(m.get('1')?.lastSeenMs).toBe(500);
  });

  test('refuses inconsistent timings', () => {
    expect(() => new Membership({heartbeatIntervalMs: 100, suspectAfterMs: 100, deadAfterMs: 1000})).toThrow(RangeError);
    expect(() => new Membership({heartbeatIntervalMs: 100, suspectAfterMs: 500, deadAfterMs: 400})).toThrow(RangeError);
  });

  test('the table is bounded', () => {
    const m = new Membership(cfg);
    for (let i = 0; i < Membership.MAX_MEMBERS + 10; i++) m.upsert(info(String(i)), 0);
    expect(m.list()).toHaveLength(Membership.MAX_MEMBERS);
  });
});
