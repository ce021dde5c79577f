/**
 * Pure mDNS record building and parsing for swarm discovery (`_swarm._tcp.local`), kept free of sockets
 * so the parser can be unit-tested and fuzzed. Everything arriving here is untrusted LAN input: the
 * parser takes `unknown`, never throws, and bounds what it reads.
 */
import type {Answer} from 'dns-packet';

export const SERVICE = '_swarm._tcp.local';
export const TXT_VERSION = '1';

/** A DNS label holds at most 63 bytes, so ids longer than that are cut in names; TXT carries the full id. */
const MAX_LABEL = 63;
const ID_RE = /^[0-9a-f]{1,64}$/i;
const LABEL_RE = /^[0-9a-f]{1,63}$/;
/** ssh-style "SHA256:base64" or plain hex/base32/base64 fingerprints. */
const FP_RE = /^[A-Za-z0-9+/=:._-]{1,128}$/;
const NAME_MAX_CHARS = 64;
/** Bounds on TXT parsing (a TXT string is ≤ 255 bytes by wire format; we also cap count and total). */
const TXT_MAX_STRINGS = 16;
const TXT_MAX_BYTES = 1300;
/** A response carrying more records than this is not from a swarm node; don't spend time on it. */
const MAX_RECORDS = 64;

export interface DiscoveredPeer {
  id: string;
  host: string;
  port: number;
  fingerprint: string;
  name?: string;
}

export interface SelfRecordsInit {
  id: string;
  name?: string;
  port: number;
  fingerprint: string;
  /** 0.0.0.0 means "no single address": no A record, peers use the packet's source address. */
  address: string;
  ttlSec: number;
}

export function isValidId(id: string): boolean {
  return ID_RE.test(id);
}

export function isValidFingerprint(fp: string): boolean {
  return FP_RE.test(fp);
}

export function isValidIpv4(s: string): boolean {
  return isIpv4(s);
}

export function labelOf(id: string): string {
  return id.slice(0, MAX_LABEL).toLowerCase();
}

export function instanceName(id: string): string {
  return `${labelOf(id)}.${SERVICE}`;
}

export function hostName(id: string): string {
  return `${labelOf(id)}.local`;
}

/** Truncates by code point until "name=<v>" fits one TXT string (255 bytes). */
function boundedName(name: string): string {
  let n = [...name.replace(/[\u0000-\u001f\u007f]/g, '')].slice(0, NAME_MAX_CHARS).join('');
  while (Buffer.byteLength(`name=${n}`) > 255) n = [...n].slice(0, -1).join('');
  return n;
}

/** The records a node announces; with ttlSec 0 they are the goodbye. */
export function buildRecords(init: SelfRecordsInit): Answer[] {
  const instance = instanceName(init.id);
  const target = hostName(init.id);
  const txt = [`id=${init.id}`, `fp=${init.fingerprint}`, ...(init.name !== undefined ? [`name=${boundedName(init.name)}`] : []), `v=${TXT_VERSION}`];
  const ttl = init.ttlSec;
  const records: Answer[] = [
    // PTR is a shared record (many instances per service), so no cache-flush bit; the others are unique to us.
    {name: SERVICE, type: 'PTR', ttl, data: instance},
    {name: instance, type: 'SRV', ttl, flush: true, data: {port: init.port, target, priority: 0, weight: 0}},
    {name: instance, type: 'TXT', ttl, flush: true, data: txt},
  ];
  if (init.address !== '0.0.0.0') records.push({name: target, type: 'A', ttl, flush: true, data: init.address});
  return records;
}

export interface ParsedResponse {
  peers: DiscoveredPeer[];
  /** Ids that announced TTL 0 on their PTR. */
  goodbyes: string[];
  /** True when the packet is broken or mentions our service with invalid records. */
  malformed: boolean;
  /** False when nothing in the packet concerns our service (another service's traffic). */
  relevant: boolean;
}

interface Rec {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object';
}

function collectRecords(packet: Record<string, unknown>): Rec[] | undefined {
  const out: Rec[] = [];
  for (const section of [packet.answers, packet.additionals]) {
    if (section === undefined) continue;
    if (!Array.isArray(section)) return undefined;
    for (const r of section as unknown[]) {
      if (out.length >= MAX_RECORDS) return out;
      if (!isObject(r) || typeof r.name !== 'string' || typeof r.type !== 'string') continue;
      // Missing TTL counts as "alive" (in-process callers); a decoded packet always has one.
      const ttl = typeof r.ttl === 'number' && Number.isFinite(r.ttl) ? r.ttl : 1;
      out.push({name: r.name.toLowerCase(), type: r.type, ttl, data: r.data});
    }
  }
  return out;
}

/** key → value from TXT data (Buffer[] when decoded from the wire, strings in-process); undefined when out of bounds. */
export function parseTxt(data: unknown): Map<string, string> | undefined {
  const parts: unknown[] = Array.isArray(data) ? data : [data];
  if (parts.length > TXT_MAX_STRINGS) return undefined;
  const out = new Map<string, string>();
  let total = 0;
  for (const p of parts) {
    let s: string;
    if (typeof p === 'string') s = p;
    else if (Buffer.isBuffer(p)) s = p.toString('utf8');
    else return undefined;
    const bytes = Buffer.byteLength(s);
    total += bytes;
    if (bytes > 255 || total > TXT_MAX_BYTES) return undefined;
    const eq = s.indexOf('=');
    if (eq <= 0) continue; // boolean attributes / empty strings carry nothing we use
    const key = s.slice(0, eq).toLowerCase();
    // RFC 6763 §6.4: the first occurrence of a key wins.
    if (!out.has(key)) out.set(key, s.slice(eq + 1));
  }
  return out;
}

function isIpv4(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** An address a peer could be dialled on: not unspecified, multicast, or broadcast. */
function isUsableHost(s: unknown): s is string {
  if (!isIpv4(s)) return false;
  const first = Number(s.split('.')[0]);
  return s !== '0.0.0.0' && s !== '255.255.255.255' && !(first >= 224 && first <= 239);
}

function validName(n: string | undefined): string | undefined {
  if (n === undefined) return undefined;
  if ([...n].length > NAME_MAX_CHARS || /[\u0000-\u001f\u007f]/.test(n)) return undefined;
  return n;
}

/**
 * Turns a decoded mDNS response into the swarm peers and goodbyes it carries. Records for our own id and
 * for other services are skipped; an instance with invalid records makes the packet `malformed`.
 */
export function parseResponse(packet: unknown, rinfo: {address: string}, selfId: string): ParsedResponse {
  const res: ParsedResponse = {peers: [], goodbyes: [], malformed: false, relevant: false};
  if (!isObject(packet)) return {...res, malformed: true};
  const recs = collectRecords(packet);
  if (!recs) return {...res, malformed: true};
  const selfLabel = labelOf(selfId);
  const suffix = `.${SERVICE}`;
  res.relevant = recs.some((r) => r.name === SERVICE || r.name.endsWith(suffix));
  const seen = new Set<string>();

  for (const ptr of recs) {
    if (ptr.name !== SERVICE || ptr.type !== 'PTR') continue;
    if (typeof ptr.data !== 'string') {
      res.malformed = true;
      continue;
    }
    const instance = ptr.data.toLowerCase();
    const label = instance.endsWith(suffix) ? instance.slice(0, -suffix.length) : '';
    if (!LABEL_RE.test(label)) {
      res.malformed = true;
      continue;
    }
    if (seen.has(label)) continue;
    seen.add(label);

    const txtRec = recs.find((r) => r.name === instance && r.type === 'TXT');
    const txt = txtRec ? parseTxt(txtRec.data) : undefined;
    if (txtRec && !txt) {
      res.malformed = true;
      continue;
    }
    const id = txt?.get('id');
    if (id !== undefined && (!isValidId(id) || labelOf(id) !== label)) {
      res.malformed = true;
      continue;
    }
    // Ourselves (loopback echoes our own announcements). Without TXT only the label can tell, which is
    // exact for ids up to 63 chars.
    if (id !== undefined ? id.toLowerCase() === selfId.toLowerCase() : label === selfLabel) continue;

    if (ptr.ttl <= 0) {
      // A goodbye need not carry TXT; then the label is the id (exact for ids up to 63 chars).
      res.goodbyes.push(id ?? label);
      continue;
    }
    // A PTR without SRV/TXT (e.g. from a minimal responder) proposes nothing dialable: skip quietly.
    const srv = recs.find((r) => r.name === instance && r.type === 'SRV');
    if (!srv || !txt || id === undefined) continue;
    if (txt.get('v') !== TXT_VERSION) continue; // a future version: not ours to interpret
    const fp = txt.get('fp');
    const d = srv.data;
    if (fp === undefined || !FP_RE.test(fp) || !isObject(d) || typeof d.target !== 'string' || !Number.isInteger(d.port) || (d.port as number) < 1 || (d.port as number) > 65535) {
      res.malformed = true;
      continue;
    }
    const target = d.target.toLowerCase();
    const a = recs.find((r) => r.name === target && r.type === 'A' && r.ttl > 0 && isUsableHost(r.data));
    const host = a ? (a.data as string) : rinfo.address;
    if (!isUsableHost(host)) {
      res.malformed = true;
      continue;
    }
    const peer: DiscoveredPeer = {id, host, port: d.port as number, fingerprint: fp};
    const name = validName(txt.get('name'));
    if (name !== undefined) peer.name = name;
    res.peers.push(peer);
  }
  return res;
}

/** The peers a response proposes (see parseResponse). */
export function peersFromResponse(packet: unknown, rinfo: {address: string}, selfId: string): DiscoveredPeer[] {
  return parseResponse(packet, rinfo, selfId).peers;
}

function ipv4ToInt(s: string): number {
  return s.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

/** Whether `addr` is on the same IPv4 network as `ifAddr`/`netmask`. */
export function sameSubnet(addr: string, ifAddr: string, netmask: string): boolean {
  if (!isIpv4(addr) || !isIpv4(ifAddr) || !isIpv4(netmask)) return false;
  const m = ipv4ToInt(netmask);
  return ((ipv4ToInt(addr) & m) >>> 0) === ((ipv4ToInt(ifAddr) & m) >>> 0);
}
