/**
 * Egress allow-rules: `host:port` strings parsed and checked, then resolved once, outside the sandbox,
 * into the IPv4 destinations the relay opens (see egress-relay.ts). Hostnames are resolved here and
 * handed to the sandbox as an /etc/hosts mapping, so the sandbox needs no DNS.
 */
import {lookup as dnsLookup} from 'node:dns/promises';

/** At most this many rules per run (each one is a listening socket and maybe an address). */
export const MAX_EGRESS_RULES = 64;
const RESOLVE_TIMEOUT_MS = 10_000;

export interface EgressRule {
  /** An IPv4 address or a lower-case hostname without a trailing dot. */
  host: string;
  port: number;
}

/** One destination the sandbox may connect to: listened on inside, dialled outside. */
export interface EgressTarget {
  ip: string;
  port: number;
}

export interface EgressPlan {
  targets: EgressTarget[];
  /** hostname -> IPv4, for the sandbox's /etc/hosts. */
  hosts: Map<string, string>;
  /** Target addresses outside 127.0.0.0/8: they must be made local inside the sandbox's namespace. */
  extraAddresses: string[];
}

/** A rule that cannot be used; the message is one line naming the rule. */
export class EgressRuleError extends Error {
  override readonly name = 'EgressRuleError';
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The rule as it may appear in a message: bounded and on one line. */
function shown(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 80)}…` : clean);
}

export function isIpv4(text: string): boolean {
  const m = IPV4.exec(text);
  // No leading zeros: "010" means octal to some resolvers and decimal to others.
  return m !== null && m.slice(1).every((p) => Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

/** Why an address cannot be an egress destination, or null when it can. */
function unusableAddress(ip: string): string | null {
  const first = Number(ip.split('.')[0]);
  if (first === 0) return 'is an unspecified (0.0.0.0/8) address';
  if (first >= 224) return 'is a multicast, reserved or broadcast address (TCP needs a unicast one)';
  return null;
}

export function parseEgressRule(text: string): EgressRule {
  const bad = (why: string): never => {
    throw new EgressRuleError(`bad egress rule ${shown(text)}: ${why}`);
  };
  if (text.startsWith('[') || (text.match(/:/g) ?? []).length > 1) bad('IPv6 is not supported (use an IPv4 address or a hostname)');
  const colon = text.lastIndexOf(':');
  if (colon < 0) bad('expected host:port');
  const host = text.slice(0, colon).toLowerCase().replace(/\.$/, '');
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) bad('the port must be a number from 1 to 65535');
  const port = Number(portText);
  if (port < 1 || port > 65535) bad('the port must be a number from 1 to 65535');
  if (host === '') bad('expected host:port');
  if (/^[\d.]+$/.test(host)) {
    if (!isIpv4(host)) bad('not a valid IPv4 address');
    const why = unusableAddress(host);
    if (why !== null) bad(`${host} ${why}`);
  } else if (host.length > 253 || !host.split('.').every((l) => LABEL.test(l))) {
    bad('not a valid hostname or IPv4 address');
  }
  return {host, port};
}

/** Parses every rule (throwing EgressRuleError for the first bad one); duplicates are dropped. */
export function parseEgressRules(texts: readonly string[]): EgressRule[] {
  if (texts.length > MAX_EGRESS_RULES) throw new EgressRuleError(`too many egress rules (${texts.length}; at most ${MAX_EGRESS_RULES})`);
  const seen = new Set<string>();
  const rules: EgressRule[] = [];
  for (const text of texts) {
    const rule = parseEgressRule(text);
    const key = `${rule.host}:${rule.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rules.push(rule);
  }
  return rules;
}

export type Resolve4 = (host: string) => Promise<string>;

/** The system resolver (as the host's own clients would see the name), IPv4 only, bounded in time. */
export const systemResolve4: Resolve4 = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${RESOLVE_TIMEOUT_MS / 1000} s`)), RESOLVE_TIMEOUT_MS);
  });
  try {
    const {address} = await Promise.race([dnsLookup(host, {family: 4}), timeout]);
    return address;
  } finally {
    clearTimeout(timer);
  }
};

/** Resolves every hostname once; the run then only ever uses these addresses. */
export async function planEgress(rules: readonly EgressRule[], resolve4: Resolve4 = systemResolve4): Promise<EgressPlan> {
  const hosts = new Map<string, string>();
  for (const {host} of rules) {
    if (isIpv4(host) || hosts.has(host)) continue;
    let ip: string;
    try {
      ip = await resolve4(host);
    } catch (err) {
      const code = (err as {code?: unknown}).code;
      throw new EgressRuleError(`egress host ${shown(host)} does not resolve to an IPv4 address (${typeof code === 'string' ? code : (err as Error).message})`);
    }
    const why = unusableAddress(ip);
    if (why !== null) throw new EgressRuleError(`egress host ${shown(host)} resolves to ${ip}, which ${why}`);
    hosts.set(host, ip);
  }
  const targets: EgressTarget[] = [];
  const seen = new Set<string>();
  for (const {host, port} of rules) {
    const ip = hosts.get(host) ?? host;
    if (seen.has(`${ip}:${port}`)) continue;
    seen.add(`${ip}:${port}`);
    targets.push({ip, port});
  }
  const extraAddresses = [...new Set(targets.map((t) => t.ip))].filter((ip) => !ip.startsWith('127.'));
  return {targets, hosts, extraAddresses};
}

/**
 * The sandbox's /etc/hosts: localhost plus every resolved rule hostname. IPv4 only: the namespace's lo
 * has ::1, and a client trying `localhost` as ::1 first would miss the relay (which listens on IPv4).
 */
export function hostsFileText(plan: EgressPlan): string {
  const lines = ['127.0.0.1\tlocalhost'];
  for (const [name, ip] of plan.hosts) lines.push(`${ip}\t${name}`);
  return `${lines.join('\n')}\n`;
}
