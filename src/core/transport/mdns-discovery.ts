/**
 * mDNS discovery of swarm nodes (`_swarm._tcp.local`) on exactly one interface. Discovery only proposes
 * peers: every address it reports is untrusted until the transport handshake proves who is there.
 */
import type {RemoteInfo} from 'node:dgram';
import * as os from 'node:os';

import makeMdns from 'multicast-dns';

import {buildRecords, hostName, instanceName, isValidFingerprint, isValidId, isValidIpv4, parseResponse, sameSubnet, SERVICE} from './mdns-records.js';
import type {DiscoveredPeer} from './mdns-records.js';

export type {DiscoveredPeer} from './mdns-records.js';

export interface MdnsDiscoveryInit {
  /** Node id (hex, up to 64 chars). */
  id: string;
  name?: string;
  /** Transport port peers should dial. */
  port: number;
  fingerprint: string;
  /** The node's bind address; mDNS joins the group and sends only on this interface. */
  interfaceAddress: string;
  /** Re-query period (and once at start); default 5000. */
  queryIntervalMs?: number;
  /** TTL of our records; default 120. */
  ttlSec?: number;
  /** A peer was seen or refreshed (never called for ourselves). */
  onPeer: (peer: DiscoveredPeer) => void;
  /** A peer announced TTL 0 (it is stopping). */
  onGoodbye: (id: string) => void;
  /** Socket errors and errors thrown by our own callbacks; discovery keeps running. */
  onError?: (err: Error) => void;
}

export interface MdnsStats {
  queriesSent: number;
  responsesSent: number;
  /** Undecodable packets, or packets naming our service with invalid records. */
  malformed: number;
  /** Packets from other services or from outside our interface's subnet (normal LAN chatter). */
  foreign: number;
}

const MDNS_PORT = 5353;
/** RFC 6762 §6: delay shared answers 20–120 ms so simultaneous queries coalesce into one response. */
const RESPONSE_DELAY_MIN_MS = 20;
const RESPONSE_DELAY_JITTER_MS = 100;
/** Floor between query-triggered responses so a query flood can't turn us into a multicast amplifier. */
const MIN_RESPONSE_GAP_MS = 200;
/** Our recent query ids, so the copy of our own query that loopback delivers isn't answered. */
const RECENT_QUERY_IDS = 8;

type Mdns = ReturnType<typeof makeMdns>;

export class MdnsDiscovery {
  readonly stats: MdnsStats = {queriesSent: 0, responsesSent: 0, malformed: 0, foreign: 0};

  private readonly init: MdnsDiscoveryInit;
  private readonly queryIntervalMs: number;
  private readonly ttlSec: number;
  private readonly askedNames: Set<string>;
  private mdns?: Mdns;
  private netmask?: string;
  private running = false;
  private announced = false;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private queryTimer?: NodeJS.Timeout;
  private responseTimer?: NodeJS.Timeout;
  private lastResponseAt = 0;
  private readonly recentQueryIds: number[] = [];

  constructor(init: MdnsDiscoveryInit) {
    if (!isValidId(init.id)) throw new TypeError(`mdns: id must be 1-64 hex chars, got ${JSON.stringify(init.id)}`);
    if (!Number.isInteger(init.port) || init.port < 1 || init.port > 65535) throw new TypeError(`mdns: bad port ${init.port}`);
    if (!isValidFingerprint(init.fingerprint)) throw new TypeError('mdns: bad fingerprint');
    if (!isValidIpv4(init.interfaceAddress)) throw new TypeError(`mdns: interfaceAddress must be IPv4, got ${JSON.stringify(init.interfaceAddress)}`);
    this.init = init;
    this.queryIntervalMs = Math.max(100, init.queryIntervalMs ?? 5000);
    this.ttlSec = Math.max(1, Math.floor(init.ttlSec ?? 120));
    this.askedNames = new Set([SERVICE, instanceName(init.id), hostName(init.id)]);
  }

  /**
   * Binds, joins the group on the interface, then announces and queries. Rejects (sending nothing) if the
   * socket can't bind or multicast can't be pinned to the interface (e.g. no such local address).
   */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Idempotent: sends a goodbye (our records with TTL 0) if we announced, then closes the socket. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStart(): Promise<void> {
    if (this.stopping) throw new Error('mdns: start() after stop()');
    const addr = this.init.interfaceAddress;
    // With a concrete address we only listen to our own link: a socket bound to 0.0.0.0 also gets group
    // traffic from other interfaces that some other process joined.
    if (addr !== '0.0.0.0') this.netmask = Object.values(os.networkInterfaces()).flat().find((i) => i?.family === 'IPv4' && i.address === addr)?.netmask;

    // Every option explicit: multicast-dns's defaults join and send on all/default interfaces.
    const m = makeMdns({
      interface: addr, // group membership + IP_MULTICAST_IF on this interface only
      bind: '0.0.0.0', // Linux delivers multicast only to sockets bound to the group or the wildcard
      port: MDNS_PORT,
      type: 'udp4',
      multicast: true,
      loopback: true, // other nodes on this host share the interface and must hear us
      reuseAddr: true, // share 5353 with those nodes and any system responder
      ttl: 255, // RFC 6762 §11
    });
    this.mdns = m;
    // multicast-dns joins the group and sets IP_MULTICAST_IF on 'listening', before 'ready'. If either
    // fails it only warns and would then send by the routing table, i.e. maybe out of another interface,
    // so such a failure during start is fatal.
    let pinned = false;
    let pinError: Error | undefined;
    m.once('networkInterface', () => (pinned = true));
    m.on('error', (err: Error) => {
      if (this.running) this.report(err);
    });
    m.on('warning', (err: Error) => {
      // multicast-dns emits decode failures as warnings too; socket errors are the ones with a syscall.
      const syscall = (err as {syscall?: unknown}).syscall;
      if (syscall === undefined) this.stats.malformed++;
      else if (!this.running && (syscall === 'addMembership' || syscall === 'setMulticastInterface')) pinError ??= err;
      else this.report(err);
    });
    m.on('query', (q: makeMdns.QueryPacket, rinfo: RemoteInfo) => this.onQuery(q, rinfo));
    m.on('response', (r: makeMdns.ResponsePacket, rinfo: RemoteInfo) => this.onResponse(r, rinfo));

    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          m.off('ready', onReady);
          reject(err);
        };
        const onReady = (): void => {
          m.off('error', onError);
          resolve();
        };
        m.once('error', onError);
        m.once('ready', onReady);
      });
      if (pinError || !pinned) throw new Error(`mdns: cannot use multicast on ${addr}: ${pinError?.message ?? 'group not joined'}`);
    } catch (err) {
      this.mdns = undefined;
      await new Promise<void>((resolve) => m.destroy(() => resolve()));
      throw err;
    }
    if (this.stopping) return;
    this.running = true;
    this.announce();
    this.query();
    this.queryTimer = setInterval(() => this.query(), this.queryIntervalMs);
  }

  private async doStop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    this.running = false;
    if (this.queryTimer) clearInterval(this.queryTimer);
    if (this.responseTimer) clearTimeout(this.responseTimer);
    const m = this.mdns;
    if (!m) return;
    if (this.announced) {
      await new Promise<void>((resolve) => {
        m.respond({answers: this.records(0)}, (err) => {
          if (err) this.report(err);
          else this.stats.responsesSent++;
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => m.destroy(() => resolve()));
    this.mdns = undefined;
  }

  private records(ttlSec: number): ReturnType<typeof buildRecords> {
    const {id, name, port, fingerprint, interfaceAddress} = this.init;
    return buildRecords({id, port, fingerprint, address: interfaceAddress, ttlSec, ...(name !== undefined ? {name} : {})});
  }

  private announce(): void {
    const m = this.mdns;
    if (!m || !this.running) return;
    this.announced = true;
    this.lastResponseAt = Date.now();
    m.respond({answers: this.records(this.ttlSec)}, (err) => {
      if (err) this.report(err);
      else this.stats.responsesSent++;
    });
  }

  private query(): void {
    const m = this.mdns;
    if (!m || !this.running) return;
    const id = Math.floor(Math.random() * 0xffff) + 1;
    this.recentQueryIds.push(id);
    if (this.recentQueryIds.length > RECENT_QUERY_IDS) this.recentQueryIds.shift();
    m.query({id, questions: [{name: SERVICE, type: 'PTR'}]}, (err) => {
      if (err) this.report(err);
      else this.stats.queriesSent++;
    });
  }

  /** False (and counted as foreign) for packets from outside our interface's subnet. */
  private fromOurLink(rinfo: RemoteInfo): boolean {
    if (this.netmask === undefined || sameSubnet(rinfo.address, this.init.interfaceAddress, this.netmask)) return true;
    this.stats.foreign++;
    return false;
  }

  private onQuery(q: makeMdns.QueryPacket, rinfo: RemoteInfo): void {
    if (!this.running || !this.fromOurLink(rinfo)) return;
    if (!Array.isArray(q.questions)) {
      this.stats.malformed++;
      return;
    }
    if (q.id !== 0 && this.recentQueryIds.includes(q.id)) return;
    const asksUs = q.questions.some(
      (x) => typeof x?.name === 'string' && this.askedNames.has(x.name.toLowerCase()) && ['PTR', 'SRV', 'TXT', 'A', 'ANY'].includes(x.type),
    );
    if (!asksUs) {
      this.stats.foreign++;
      return;
    }
    if (this.responseTimer) return; // one multicast answer serves every querier
    const delay = Math.max(RESPONSE_DELAY_MIN_MS + Math.random() * RESPONSE_DELAY_JITTER_MS, this.lastResponseAt + MIN_RESPONSE_GAP_MS - Date.now());
    this.responseTimer = setTimeout(() => {
      this.responseTimer = undefined;
      this.announce();
    }, delay);
  }

  private onResponse(r: makeMdns.ResponsePacket, rinfo: RemoteInfo): void {
    if (!this.running || !this.fromOurLink(rinfo)) return;
    const parsed = parseResponse(r, rinfo, this.init.id);
    if (parsed.malformed) this.stats.malformed++;
    else if (!parsed.relevant) this.stats.foreign++;
    for (const peer of parsed.peers) this.safely(() => this.init.onPeer(peer));
    for (const id of parsed.goodbyes) this.safely(() => this.init.onGoodbye(id));
  }

  /** Our callbacks run inside socket event handlers: a throw there would crash the process. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private report(err: Error): void {
    try {
      this.init.onError?.(err);
    } catch {
      // onError itself threw: nothing left to tell.
    }
  }
}
