import {Firewall} from '../../src/core/security/firewall.js';
import type {AuditEvent} from '../../src/core/security/firewall.js';
import type {Envelope} from '../../src/core/transport/envelope.js';

const peer = {id: 'aa'.repeat(16), role: 'node' as const};
const env = (over: Partial<Envelope> = {}): Envelope => ({v: 1, type: 'membership.ping', id: 'x', from: peer.id, to: '', ts: 0, body: null, ...over});

function make(opts: {rate?: number; burst?: number; auditPerWindow?: number} = {}) {
  let now = 0;
  const audits: (AuditEvent & {suppressed?: number})[] = [];
  const fw = new Firewall(
    {clock: () => now, sink: {audit: (e) => audits.push(e)}},
    {
      knownType: (t) => t.startsWith('membership.') || t.startsWith('control.'),
      allowType: (role, t) => (t.startsWith('control.') ? role === 'client' : true),
      ratePerSec: opts.rate ?? 10,
      burst: opts.burst ?? 5,
      auditPerWindow: opts.auditPerWindow ?? 3,
      auditWindowMs: 1000,
    },
  );
  return {fw, audits, advance: (ms: number) => (now += ms)};
}

describe('firewall', () => {
  test('admits a well-behaved peer and counts it', () => {
    const {fw} = make();
    expect(fw.admit(peer, env())).toBe(true);
    expect(fw.admitted).toBe(1);
    expect(fw.totalDropped()).toBe(0);
  });

  test('refuses a forged sender, an unknown type and a type the role may not send, each counted', () => {
    const {fw} = make();
    expect(fw.admit(peer, env({from: 'bb'.repeat(16)}))).toBe(false);
    expect(fw.admit(peer, env({type: 'evil.exec'}))).toBe(false);
    expect(fw.admit(peer, env({type: 'control.stop'}))).toBe(false);
    expect(fw.admit({...peer, role: 'client'}, env({type: 'control.stop'}))).toBe(true);
    expect(fw.counters.forged).toBe(1);
    expect(fw.counters.unknown_type).toBe(1);
    expect(fw.counters.policy_denied).toBe(1);
    expect(fw.admitted).toBe(1);
  });

  test('rate-limits per peer with a token bucket that refills with time', () => {
    const {fw, advance} = make({rate: 10, burst: 5});
    const results = Array.from({length: 8}, () => fw.admit(peer, env()));
    expect(results.filter(Boolean)).toHaveLength(5);
    expect(fw.counters.rate_limited).toBe(3);
    advance(500); // 5 tokens back
    expect(Array.from({length: 6}, () => fw.admit(peer, env())).filter(Boolean)).toHaveLength(5);
    // another peer has its own bucket
    expect(fw.admit({id: 'cc'.repeat(16), role: 'node'}, env({from: 'cc'.repeat(16)}))).toBe(true);
  });

  test('audit log is rate-limited per reason and summarises what it suppressed', () => {
    const {fw, audits, advance} = make({auditPerWindow: 3});
    for (let i = 0; i < 10; i++) fw.drop('malformed', 'rid:1');
    expect(fw.counters.malformed).toBe(10);
    expect(audits).toHaveLength(3);
    advance(1000);
    fw.drop('malformed', 'rid:1');
    expect(audits.find((a) => a.suppressed === 7)).toBeDefined();
    expect(audits.at(-1)).toMatchObject({reason: 'malformed', origin: 'rid:1'});
  });
});
