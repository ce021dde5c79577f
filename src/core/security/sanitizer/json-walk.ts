import {readsSensitive} from './exfiltration.js';
import {findUrls} from './hosts.js';
import {scanText} from './scan.js';
import type {RawFinding, ScanEnv} from './scan.js';
import {redactText} from './verdict.js';

/**
 * JSON values: every string (keys too) is scanned with its JSON path. Two things are looked at across
 * strings: an all-string array (an argv) is also scanned joined with spaces, since a command split into
 * arguments is still a command; and an object whose strings hold both an outside URL and a read of a
 * credential file (a request built as fields) is exfiltration.
 */

export interface JsonScan {
  findings: RawFinding[];
  redacted: unknown;
  scanned: number;
}

interface Walk {
  env: ScanEnv;
  findings: RawFinding[];
  scanned: number;
  seen: WeakSet<object>;
}

interface Signals {
  outsideUrl: boolean;
  readsSecret: boolean;
}

export function scanJson(value: unknown, env: ScanEnv): JsonScan {
  const w: Walk = {env, findings: [], scanned: 0, seen: new WeakSet()};
  const {out} = walk(value, '$', 0, w);
  return {findings: w.findings, redacted: out, scanned: w.scanned};
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function scanString(s: string, path: string, w: Walk, around: string): {out: string; signals: Signals} {
  w.scanned += s.length;
  const r = scanText(s, w.env, 0, around);
  for (const f of r.findings) w.findings.push({...f, path});
  const needsRedaction = r.strip.length > 0 || r.findings.some((f) => f.action === 'redact');
  const urls = /:\/\//.test(s) ? findUrls(s, w.env.hosts) : [];
  return {out: needsRedaction ? redactText(s, r.findings, r.strip) : s, signals: {outsideUrl: urls.some((u) => u.outside), readsSecret: readsSensitive(s)}};
}

/** Keys from the root down, and the short string siblings of the parent: a JSON string's surroundings. */
function surroundings(keys: string, parent: unknown): string {
  if (!parent || typeof parent !== 'object') return keys;
  const sib: string[] = [];
  for (const [k, v] of Object.entries(parent)) {
    sib.push(k);
    if (typeof v === 'string' && v.length <= AROUND_VALUE) sib.push(v);
  }
  return `${keys} ${sib.join(' ')}`.slice(0, AROUND_MAX);
}

const AROUND_VALUE = 200;
const AROUND_MAX = 2000;

function walk(value: unknown, path: string, depth: number, w: Walk, keys = '', parent?: unknown): {out: unknown; signals: Signals} {
  const none: Signals = {outsideUrl: false, readsSecret: false};
  if (typeof value === 'string') return scanString(value, path, w, surroundings(keys, parent));
  if (value === null || typeof value !== 'object') return {out: value, signals: none};
  if (depth >= w.env.policy.maxJsonDepth || w.seen.has(value)) {
    w.findings.push({rule: 'limit.json-depth', category: 'limit', severity: 'high', action: 'block', reason: `JSON nested deeper than ${w.env.policy.maxJsonDepth} levels or cyclic: blocked unscanned`, span: {start: 0, end: 0}, path});
    return {out: null, signals: none};
  }
  w.seen.add(value);
  const signals: Signals = {outsideUrl: false, readsSecret: false};
  const merge = (s: Signals): void => {
    signals.outsideUrl ||= s.outsideUrl;
    signals.readsSecret ||= s.readsSecret;
  };
  let out: unknown;
  if (Array.isArray(value)) {
    const arr: unknown[] = [];
    value.forEach((v, i) => {
      const r = walk(v, childPath(path, i), depth + 1, w, keys, value);
      arr.push(r.out);
      merge(r.signals);
    });
    if (value.length >= 2 && value.every((v) => typeof v === 'string')) joinedArgv(value as string[], path, w);
    out = arr;
  } else {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const key = scanString(k, `${childPath(path, k)} (key)`, w, keys);
      const r = walk(v, childPath(path, k), depth + 1, w, `${keys} ${k}`.slice(-AROUND_MAX), value);
      obj[key.out] = r.out;
      merge(r.signals);
    }
    out = obj;
  }
  w.seen.delete(value);
  if (signals.outsideUrl && signals.readsSecret && !w.findings.some((f) => f.action === 'block' && f.category === 'exfiltration' && f.path?.startsWith(path))) {
    w.findings.push({rule: 'exfiltration.json-request', category: 'exfiltration', severity: 'critical', action: 'block', reason: 'object sends the contents of a credential file or the environment to an outside URL in another field', span: {start: 0, end: 0}, path});
  }
  return {out, signals};
}

/** An argv scanned as one command line; only blocking intent the single arguments did not show is added. */
function joinedArgv(args: string[], path: string, w: Walk): void {
  const joined = args.join(' ');
  const already = new Set(w.findings.filter((f) => f.path?.startsWith(path)).map((f) => f.rule));
  for (const f of scanText(joined, w.env).findings) {
    if (f.action !== 'block' || f.category === 'hidden_unicode' || already.has(f.rule)) continue;
    w.findings.push({...f, path, reason: `${f.reason} (arguments joined)`});
  }
}
