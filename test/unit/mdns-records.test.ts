/**
 * The mDNS record codec without sockets: what we announce round-trips through the wire format, and
 * whatever arrives from the LAN (garbage, other services, our own echo, hostile records) is ignored or
 * counted, never thrown.
 */
import * as crypto from 'node:crypto';

import * as dnsPacket from 'dns-packet';

import {MdnsDiscovery} from '../../src/core/transport/mdns-discovery.js';
import {buildRecords, parseResponse, parseTxt, peersFromResponse, sameSubnet, SERVICE} from '../../src/core/transport/mdns-records.js';

const ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const FP = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
const SELF = 'ffffffffffffffffffffffffffffffff';
const RINFO = {address: '10.9.8.7'};

/** Our records as another node would receive them: encoded and decoded by the wire codec. */
function wire(address: string, opts: {id?: string; ttlSec?: number; name?: string} = {}): unknown {
  const answers = buildRecords({id: opts.id ?? ID, name: opts.name ?? 'node-a', port: 7421, fingerprint: FP, address, ttlSec: opts.ttlSec ?? 120});
  return dnsPacket.decode(dnsPacket.encode({type: 'response', answers}));
}

function ptr(instance: unknown, extra: object[] = []): unknown {
  return {type: 'response', answers: [{name: SERVICE, type: 'PTR', ttl: 120, data: instance}, ...extra]};
}

function instanceRecords(opts: {label?: string; txt?: unknown; port?: unknown; a?: unknown} = {}): unknown {
  const instance = `${opts.label ?? ID}.${SERVICE}`;
  const target = `${opts.label ?? ID}.local`;
  return ptr(instance, [
    {name: instance, type: 'SRV', ttl: 120, data: {port: opts.port ?? 7421, target}},
    {name: instance, type: 'TXT', ttl: 120, data: opts.txt ?? [`id=${ID}`, `fp=${FP}`, 'v=1']},
    ...(opts.a === undefined ? [] : [{name: target, type: 'A', ttl: 120, data: opts.a}]),
  ]);
}

describe('mdns records', () => {
  test('an announcement round-trips the wire format into the peer, host from the A record', () => {
    expect(parseResponse(wire('10.1.2.3'), RINFO, SELF)).toEqual({
      peers: [{id: ID, host: '10.1.2.3', port: 7421, fingerprint: FP, name: 'node-a'}],
      goodbyes: [],
      malformed: false,
      relevant: true,
    });
  });

  test('a wildcard-bound node announces no A record; its host is the packet source', () => {
    const records = buildRecords({id: ID, port: 7421, fingerprint: FP, address: '0.0.0.0', ttlSec: 120});
    expect(records.map((r) => r.type)).toEqual(['PTR', 'SRV', 'TXT']);
    expect(peersFromResponse(wire('0.0.0.0'), RINFO, SELF)).toEqual([{id: ID, host: '10.9.8.7', port: 7421, fingerprint: FP, name: 'node-a'}]);
  });

  test('TTL 0 is a goodbye, not a peer', () => {
    expect(parseResponse(wire('10.1.2.3', {ttlSec: 0}), RINFO, SELF)).toMatchObject({peers: [], goodbyes: [ID], malformed: false});
    // A bare PTR goodbye (no TXT) still names the id through its label.
    const bare = {answers: [{name: SERVICE, type: 'PTR', ttl: 0, data: `${ID}.${SERVICE}`}]};
    expect(parseResponse(bare, RINFO, SELF).goodbyes).toEqual([ID]);
  });

  test('our own echo is ignored, even with a 64-char id whose label is cut to 63', () => {
    expect(parseResponse(wire('10.1.2.3'), RINFO, ID)).toMatchObject({peers: [], goodbyes: [], malformed: false});
    expect(parseResponse(wire('10.1.2.3', {ttlSec: 0}), RINFO, ID).goodbyes).toEqual([]);
    const long = 'ab'.repeat(32);
    const other = long.slice(0, 63) + 'c';
    expect(parseResponse(wire('10.1.2.3', {id: long}), RINFO, long).peers).toEqual([]);
    expect(parseResponse(wire('10.1.2.3', {id: other}), RINFO, long).peers.map((p) => p.id)).toEqual([other]);
  });

  test('other services are irrelevant, not malformed', () => {
    const http = dnsPacket.decode(
      dnsPacket.encode({
        type: 'response',
        answers: [
          {name: '_http._tcp.local', type: 'PTR', ttl: 120, data: 'printer._http._tcp.local'},
          {name: 'printer._http._tcp.local', type: 'SRV', ttl: 120, data: {port: 80, target: 'printer.local'}},
          {name: 'printer.local', type: 'A', ttl: 120, data: '10.0.0.9'},
        ],
      }),
    );
    expect(parseResponse(http, RINFO, SELF)).toEqual({peers: [], goodbyes: [], malformed: false, relevant: false});
  });

  test('a future TXT version and a PTR without SRV/TXT propose nothing, quietly', () => {
    expect(parseResponse(instanceRecords({txt: [`id=${ID}`, `fp=${FP}`, 'v=2']}), RINFO, SELF)).toMatchObject({peers: [], malformed: false});
    expect(parseResponse(ptr(`${ID}.${SERVICE}`), RINFO, SELF)).toMatchObject({peers: [], malformed: false, relevant: true});
  });

  const malformed: [string, unknown, {address: string}?][] = [
    ['null', null],
    ['a number', 42],
    ['answers not an array', {answers: 'x'}],
    ['PTR data not a string', ptr({evil: true})],
    ['PTR to a non-hex label', ptr(`../../etc.${SERVICE}`)],
    ['PTR to another service', ptr('abc._other._tcp.local')],
    ['port 0', instanceRecords({port: 0})],
    ['port 70000', instanceRecords({port: 70000})],
    ['port as string', instanceRecords({port: '7421'})],
    ['TXT id not matching the label', instanceRecords({txt: ['id=0123', `fp=${FP}`, 'v=1']})],
    ['TXT id not hex', instanceRecords({label: 'abc', txt: ['id=abc;rm', `fp=${FP}`, 'v=1']})],
    ['TXT missing fp', instanceRecords({txt: [`id=${ID}`, 'v=1']})],
    ['fp with spaces', instanceRecords({txt: [`id=${ID}`, 'fp=a b', 'v=1']})],
    ['fp too long', instanceRecords({txt: [`id=${ID}`, `fp=${'a'.repeat(200)}`, 'v=1']})],
    ['too many TXT strings', instanceRecords({txt: Array.from({length: 40}, (_, i) => `k${i}=v`)})],
    ['a TXT string over 255 bytes', instanceRecords({txt: [`id=${ID}`, `fp=${FP}`, 'v=1', `x=${'y'.repeat(300)}`]})],
    ['TXT of objects', instanceRecords({txt: [{}]})],
    ['no A record and a multicast source', instanceRecords(), {address: '224.0.0.251'}],
    ['no A record and no source', instanceRecords(), {address: undefined as unknown as string}],
  ];
  // A default (not optional) third parameter keeps fn.length at 2, or jest would wait for a `done` callback.
  test.each(malformed)('malformed: %s', (_what, packet, rinfo = RINFO) => {
    const r = parseResponse(packet, rinfo, SELF);
    expect(r.malformed).toBe(true);
    expect(r.peers).toEqual([]);
  });

  test('an unusable A record falls back to the packet source', () => {
    for (const a of ['224.0.0.251', '0.0.0.0', '999.1.1.1', 'evil.example', 12]) {
      expect(peersFromResponse(instanceRecords({a}), RINFO, SELF).map((p) => p.host)).toEqual(['10.9.8.7']);
    }
  });

  test('names: control characters dropped on receive, length bounded on send', () => {
    const withCtl = instanceRecords({txt: [`id=${ID}`, `fp=${FP}`, 'v=1', 'name=evil\u001b[2J']});
    expect(peersFromResponse(withCtl, RINFO, SELF)[0]).not.toHaveProperty('name');
    const long = buildRecords({id: ID, name: '\u{1F600}'.repeat(100), port: 1, fingerprint: FP, address: '10.0.0.1', ttlSec: 1});
    const txt = long.find((r) => r.type === 'TXT')!.data as string[];
    const name = txt.find((s) => s.startsWith('name='))!;
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(peersFromResponse(dnsPacket.decode(dnsPacket.encode({type: 'response', answers: long})), RINFO, SELF)[0]!.name).toBe(name.slice(5));
  });

  test('TXT: first key wins, keys are case-insensitive, flags without "=" are skipped', () => {
    expect(parseTxt([Buffer.from('ID=1'), 'id=2', 'flag', ''])).toEqual(new Map([['id', '1']]));
  });

  test('fuzz: random and bit-flipped packets never throw, and every proposed peer is well-formed', () => {
    const valid = dnsPacket.encode({type: 'response', answers: buildRecords({id: ID, name: 'n', port: 7421, fingerprint: FP, address: '10.1.2.3', ttlSec: 120})});
    let decoded = 0;
    // Mostly bit flips of a real announcement (they get past the decoder); fewer random buffers, since
    // dns-packet spends milliseconds rejecting each of those.
    for (let i = 0; i < 2000; i++) {
      const random = i % 5 === 0;
      const buf = random ? crypto.randomBytes(crypto.randomInt(0, 256)) : Buffer.from(valid);
      if (!random) for (let k = 0; k < 1 + (i % 4); k++) buf[crypto.randomInt(buf.length)] ^= 1 << crypto.randomInt(8);
      let packet: unknown;
      try {
        packet = dnsPacket.decode(buf);
      } catch {
        continue; // multicast-dns counts these as malformed before we ever see them
      }
      decoded++;
      for (const p of parseResponse(packet, RINFO, SELF).peers) {
        expect(p.id).toMatch(/^[0-9a-f]{1,64}$/i);
        expect(p.port).toBeGreaterThanOrEqual(1);
        expect(p.port).toBeLessThanOrEqual(65535);
        expect(p.host).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
      }
    }
    expect(decoded).toBeGreaterThan(100);
  });

  test('sameSubnet', () => {
    expect(sameSubnet('10.1.2.200', '10.1.2.1', '255.255.255.0')).toBe(true);
    expect(sameSubnet('10.1.3.1', '10.1.2.1', '255.255.255.0')).toBe(false);
    expect(sameSubnet('127.5.5.5', '127.0.0.1', '255.0.0.0')).toBe(true);
    expect(sameSubnet('garbage', '10.1.2.1', '255.255.255.0')).toBe(false);
  });

  test('MdnsDiscovery rejects a bad init before opening any socket', () => {
    const base = {id: ID, port: 7421, fingerprint: FP, interfaceAddress: '10.0.0.1', onPeer: () => undefined, onGoodbye: () => undefined};
    expect(() => new MdnsDiscovery({...base, id: 'not-hex'})).toThrow(TypeError);
    expect(() => new MdnsDiscovery({...base, id: 'a'.repeat(65)})).toThrow(TypeError);
    expect(() => new MdnsDiscovery({...base, port: 0})).toThrow(TypeError);
    expect(() => new MdnsDiscovery({...base, fingerprint: 'has space'})).toThrow(TypeError);
    expect(() => new MdnsDiscovery({...base, interfaceAddress: 'eth0'})).toThrow(TypeError);
  });
});
