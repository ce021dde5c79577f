import {TextContext} from './context.js';
import {findCredentials} from './credentials.js';
import {findBlobs} from './decode.js';
import type {DecodeBudget} from './decode.js';
import {exfiltrationCues} from './exfiltration.js';
import {AUTH_PARAM, findUrls, urlAround, urlsWithin} from './hosts.js';
import type {HostMatcher, UrlRef} from './hosts.js';
import {injectionCues} from './injection.js';
import {weighIntent} from './intent.js';
import type {SecretMatcher} from './secrets.js';
import {TextView} from './text-view.js';
import type {Finding, SanitizerPolicy, Span} from './types.js';
import {HIDDEN_RULES, hiddenRuns} from './unicode.js';

/** A finding plus what a redaction puts in its place ('' strips, as for hidden characters). */
export interface RawFinding extends Finding {
  replacement?: string;
}

export interface ScanEnv {
  policy: SanitizerPolicy;
  hosts: HostMatcher;
  secrets: SecretMatcher;
  budget: DecodeBudget;
}

export interface TextScan {
  findings: RawFinding[];
  /** Hidden characters to remove when redacting, as flat [start, end, start, end, …] pairs in order (all of them, even past the reporting cap). */
  strip: number[];
}

/** At most this many findings per rule per string are listed; the rest are counted in the last one. */
const PER_RULE_CAP = 50;

/**
 * Every rule over one string. `depth` > 0 means the text came out of a decoded blob or hidden tag text;
 * `around` is text that surrounds it without being part of it (a JSON string's keys and siblings).
 */
export function scanText(orig: string, env: ScanEnv, depth = 0, around = ''): TextScan {
  const findings: RawFinding[] = [];
  const strip: number[] = [];
  const encoded = depth > 0;

  const listed = new Map<string, number>();
  for (const run of hiddenRuns(orig)) {
    strip.push(run.start, run.end);
    const n = (listed.get(run.rule) ?? 0) + 1;
    listed.set(run.rule, n);
    if (n > PER_RULE_CAP) continue; // still stripped; capPerRule notes how many more
    const def = HIDDEN_RULES[run.rule];
    const span = {start: run.start, end: run.end};
    findings.push({rule: run.rule, category: 'hidden_unicode', severity: def.severity, action: def.action, reason: def.reason(run), span, replacement: ''});
    if (run.hidden && depth < env.policy.maxDecodeDepth && env.budget.take(Math.min(run.hidden.length, env.policy.maxBlobBytes)))
      nested(findings, scanText(run.hidden.slice(0, env.policy.maxBlobBytes), env, depth + 1).findings, span, 'tags');
  }

  const view = new TextView(orig);
  const ctx = new TextContext(view.text, around);
  const {cues} = exfiltrationCues(view.text, env.hosts);
  cues.push(...injectionCues(view.text));
  for (const f of weighIntent(cues, view, ctx, {encoded, blockScore: env.policy.blockScore})) {
    findings.push({rule: f.rule, category: f.category, severity: f.severity, action: f.block ? 'block' : 'allow', reason: f.reason, span: view.toOrig(f.span)});
  }

  const urls = findUrls(orig, env.hosts);
  const lines = new Lines(orig);
  for (const c of findCredentials(orig)) {
    const name = c.rule.replace(/^credential\./, '');
    if (c.example) {
      findings.push({rule: c.rule, category: 'credential', severity: 'info', action: 'allow', reason: `${c.label} that is a documentation example or placeholder (left as is)`, span: c.span});
      continue;
    }
    const out = headsOut(orig, urls, env.hosts, c.span, true, lines);
    if (out) findings.push({rule: 'exfiltration.credential-to-host', category: 'exfiltration', severity: 'critical', action: 'block', reason: `${c.label} ${out}`, span: c.span});
    else findings.push({rule: c.rule, category: 'credential', severity: 'high', action: 'redact', reason: `${c.label} (redacted)`, span: c.span, replacement: `[REDACTED:${name}]`});
  }

  for (const s of env.secrets.find(orig)) {
    const out = headsOut(orig, urls, env.hosts, s.span, false, lines);
    const form = s.form === 'exact' ? '' : ` (${s.form})`;
    if (out) findings.push({rule: 'exfiltration.secret-to-host', category: 'exfiltration', severity: 'critical', action: 'block', reason: `vault value ${s.label}${form} ${out}`, span: s.span});
    else findings.push({rule: 'secret.vault-value', category: 'secret', severity: 'high', action: 'redact', reason: `vault value ${s.label}${form} (redacted)`, span: s.span, replacement: `[REDACTED:${s.label}]`});
  }

  if (depth < env.policy.maxDecodeDepth) {
    for (const blob of findBlobs(orig, env.budget)) nested(findings, scanText(blob.text, env, depth + 1).findings, blob.span, blob.encoding);
  }
  for (const [rule, n] of listed) if (n > PER_RULE_CAP) noteMore(findings, rule, n - PER_RULE_CAP);
  return {findings: capPerRule(findings), strip};
}

/** Findings from inside a blob point at the whole blob; a redaction replaces the blob. */
function nested(into: RawFinding[], inner: RawFinding[], span: Span, encoding: string): void {
  for (const f of inner) {
    if (f.action === 'allow' && f.severity === 'info') continue;
    const via = f.via ? `${encoding}>${f.via}` : encoding;
    into.push({...f, span: {...span}, via, reason: `${f.reason} (inside ${encoding === 'tags' ? 'hidden tag text' : `${encoding}-encoded text`})`, ...(f.action === 'redact' ? {replacement: f.replacement || `[REDACTED:${f.rule.replace(/^[a-z_]+\./, '')}]`} : {})});
  }
}

const NETWORK_SINK = /\b(?:curl|wget|nc|ncat|netcat|socat|scp|rsync|nslookup|dig|host|ping|Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\b|\brequests\.\w+|\bfetch\s*\(|\burlopen\b/i;
const AUTH_NEAR = /(?:(?:-u|--user)[=\s]*["']?(?:[^\s"':]*:)?|authorization:\s*(?:bearer|token|basic)?\s*|(?:api-key|x-api-key|private-token|x-auth-token)\s*:\s*)["']?$/i;

interface LineInfo {
  sink: boolean;
  urlHost?: string;
  ipHost?: string;
}

/** Line boundaries (from one pass over the newlines) and what is known about each line. */
class Lines {
  readonly info = new Map<number, LineInfo>();
  private readonly breaks: number[] = [];

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.breaks.push(i);
  }

  bounds(span: Span): [number, number] {
    let lo = 0;
    let hi = this.breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.breaks[mid]! < span.start) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === 0 ? 0 : this.breaks[lo - 1]! + 1;
    let k = lo;
    while (k < this.breaks.length && this.breaks[k]! < span.end) k++;
    return [start, k < this.breaks.length ? this.breaks[k]! : this.text.length];
  }
}

const MAX_COMMAND_LINE = 64 * 1024;

/**
 * Does the value at `span` leave for an outside host? In the data part of an outside URL (an image or
 * link always; a plain URL unless the parameter is an auth parameter such as ?api_key=, when
 * `authExempt`), or on a command line that sends to an outside host, outside an auth header or -u.
 * `lines` caches what is known about each command line, so many hits on one line cost one look.
 */
function headsOut(text: string, urls: readonly UrlRef[], hosts: HostMatcher, span: Span, authExempt: boolean, lines: Lines): string | undefined {
  const u = urlAround(urls, span);
  if (u) {
    if (!u.outside) return undefined;
    if (u.userinfo && span.start >= u.userinfo.start && span.end <= u.userinfo.end) return undefined; // auth to that very host
    if (span.start < u.dataSpan.start) return undefined;
    const param = u.query.find((q) => q.span.start <= span.start && span.end <= q.span.end);
    if (authExempt && !u.markup && param && AUTH_PARAM.test(param.name)) return undefined;
    return `in a ${u.markup ? 'rendered ' : ''}URL to outside host ${u.host}`;
  }
  const [lineStart, lineEnd] = lines.bounds(span);
  if (lineEnd - lineStart > MAX_COMMAND_LINE) return undefined; // a blob or a document, not a command line
  const line = text.slice(lineStart, lineEnd);
  let info = lines.info.get(lineStart);
  if (!info) {
    info = {sink: NETWORK_SINK.test(line)};
    if (info.sink) {
      const urlHost = urlsWithin(urls, lineStart, lineEnd).find((x) => x.outside)?.host;
      if (urlHost) info.urlHost = urlHost;
      for (const m of line.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\b/g)) {
        if (!hosts.isInternal(m[1]!)) {
          info.ipHost = m[1]!;
          break;
        }
      }
    }
    lines.info.set(lineStart, info);
  }
  if (!info.sink) return undefined;
  if (authExempt && AUTH_NEAR.test(text.slice(Math.max(lineStart, span.start - 40), span.start))) return undefined;
  const host = info.urlHost ?? dnsLabelOf(line, span.start - lineStart, span.end - lineStart, hosts) ?? info.ipHost;
  return host ? `sent to outside host ${host} by a command` : undefined;
}

/** DNS-style exfiltration: the value is a label of an outside domain name (hex.attacker.example). */
function dnsLabelOf(line: string, s: number, e: number, hosts: HostMatcher): string | undefined {
  const after = /^\.([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})\b/.exec(line.slice(e, e + 256));
  if (after && (s === 0 || /[\s"'@]/.test(line[s - 1]!)) && !hosts.isInternal(after[1]!)) return after[1];
  return undefined;
}

function capPerRule(findings: RawFinding[]): RawFinding[] {
  const counts = new Map<string, number>();
  const out: RawFinding[] = [];
  for (const f of findings) {
    const n = (counts.get(f.rule) ?? 0) + 1;
    counts.set(f.rule, n);
    if (n <= PER_RULE_CAP || (f.action === 'redact' && f.replacement)) out.push(f); // every redaction is needed to redact
  }
  for (const [rule, n] of counts) if (n > PER_RULE_CAP) noteMore(out, rule, n - PER_RULE_CAP);
  return out;
}

function noteMore(findings: RawFinding[], rule: string, more: number): void {
  for (let i = findings.length - 1; i >= 0; i--) {
    if (findings[i]!.rule === rule) {
      findings[i]!.reason += ` (and ${more} more like it)`;
      return;
    }
  }
}
