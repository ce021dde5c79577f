import type {Span} from './types.js';

/** Which hosts count as inside: loopback, private and link-local ranges, single-label names, cluster suffixes, and the policy's own. */
export class HostMatcher {
  private readonly suffixes: string[];

  constructor(extra: readonly string[] = []) {
    this.suffixes = ['local', 'internal', 'lan', 'home.arpa', 'svc', 'cluster.local', 'localhost', ...extra.map((s) => s.toLowerCase().replace(/^\*?\.+/, ''))];
  }

  isInternal(rawHost: string): boolean {
    const host = rawHost.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    if (host === '' || host === 'localhost' || host === '0.0.0.0') return true;
    const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
    if (v4) {
      const [a, b] = [Number(v4[1]), Number(v4[2])];
      return a === 127 || a === 10 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) || (a === 169 && b === 254) || a === 0;
    }
    if (host.includes(':')) return host === '::1' || /^f[cd][0-9a-f]{2}:/.test(host) || host.startsWith('fe80:');
    if (!host.includes('.')) return true; // "db", "redis": a name only the local resolver knows
    return this.suffixes.some((s) => host === s || host.endsWith('.' + s));
  }
}

export type UrlMarkup = 'md-image' | 'md-link' | 'html-src' | 'html-href';

export interface QueryParam {
  name: string;
  value: string;
  /** Span of the value. */
  span: Span;
}

export interface UrlRef {
  span: Span;
  host: string;
  outside: boolean;
  /** user:password part, when present. */
  userinfo?: Span;
  /** Path and query (what carries data), excluding the scheme, userinfo and host. */
  dataSpan: Span;
  query: QueryParam[];
  pathSegments: QueryParam[];
  markup?: UrlMarkup;
}

const URL_RE = /\b(?:https?|ftp|wss?):\/\/[^\s<>"'`\\)]+/gi;

export function findUrls(text: string, hosts: HostMatcher): UrlRef[] {
  const out: UrlRef[] = [];
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    // Sentence punctuation and unbalanced closers belong to the prose around the URL.
    for (;;) {
      const last = raw[raw.length - 1]!;
      if (/[.,;:!?]/.test(last) || (last === '}' && count(raw, '{') < count(raw, '}')) || (last === ']' && count(raw, '[') < count(raw, ']'))) raw = raw.slice(0, -1);
      else break;
    }
    const start = m.index!;
    const ref = parseUrl(text, start, raw, hosts);
    if (ref) out.push(ref);
  }
  return out;
}

function count(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}

function parseUrl(text: string, start: number, raw: string, hosts: HostMatcher): UrlRef | undefined {
  const authStart = raw.indexOf('//') + 2;
  let authEnd = raw.length;
  for (const c of ['/', '?', '#']) {
    const k = raw.indexOf(c, authStart);
    if (k >= 0 && k < authEnd) authEnd = k;
  }
  const authority = raw.slice(authStart, authEnd);
  const at = authority.lastIndexOf('@');
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d*$/, '');
  if (!host) return undefined;
  const ref: UrlRef = {
    span: {start, end: start + raw.length},
    host,
    outside: !hosts.isInternal(host),
    dataSpan: {start: start + authEnd, end: start + raw.length},
    query: [],
    pathSegments: [],
  };
  if (at >= 0) ref.userinfo = {start: start + authStart, end: start + authStart + at};
  const q = raw.indexOf('?', authEnd);
  const hash = raw.indexOf('#', authEnd);
  const pathEnd = q >= 0 ? q : hash >= 0 ? hash : raw.length;
  let segStart = authEnd + 1;
  for (let k = authEnd + 1; k <= pathEnd; k++) {
    if (k === pathEnd || raw[k] === '/') {
      if (k > segStart) ref.pathSegments.push({name: '', value: raw.slice(segStart, k), span: {start: start + segStart, end: start + k}});
      segStart = k + 1;
    }
  }
  if (q >= 0) {
    const qEnd = hash > q ? hash : raw.length;
    let p = q + 1;
    while (p <= qEnd) {
      let e = raw.indexOf('&', p);
      if (e < 0 || e > qEnd) e = qEnd;
      const pair = raw.slice(p, e);
      const eq = pair.indexOf('=');
      const name = eq >= 0 ? pair.slice(0, eq) : '';
      const vStart = eq >= 0 ? p + eq + 1 : p;
      ref.query.push({name, value: raw.slice(vStart, e), span: {start: start + vStart, end: start + e}});
      p = e + 1;
    }
  }
  const markup = markupOf(text, start);
  if (markup) ref.markup = markup;
  return ref;
}

/** Markdown image/link or HTML src/href around the URL: images load by themselves when rendered. */
function markupOf(text: string, start: number): UrlMarkup | undefined {
  if (start >= 2 && text[start - 1] === '(' && text[start - 2] === ']') {
    let depth = 0;
    for (let k = start - 3; k >= 0 && k >= start - 1000; k--) {
      const c = text[k];
      if (c === '\n') break;
      if (c === ']') depth++;
      else if (c === '[') {
        if (depth === 0) return k > 0 && text[k - 1] === '!' ? 'md-image' : 'md-link';
        depth--;
      }
    }
    return 'md-link';
  }
  const before = text.slice(Math.max(0, start - 12), start).toLowerCase();
  if (/\b(?:src|srcset|background|poster)\s*=\s*["']?$/.test(before)) return 'html-src';
  if (/\bhref\s*=\s*["']?$/.test(before)) return 'html-href';
  return undefined;
}

/** Index of the first URL (sorted by start, as findUrls returns them) starting at or after `pos`. */
function firstFrom(urls: readonly UrlRef[], pos: number): number {
  let lo = 0;
  let hi = urls.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (urls[mid]!.span.start < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The URL whose span contains `span`, if any (URLs do not overlap). */
export function urlAround(urls: readonly UrlRef[], span: Span): UrlRef | undefined {
  const u = urls[firstFrom(urls, span.start + 1) - 1];
  return u && u.span.start <= span.start && span.end <= u.span.end ? u : undefined;
}

/** URLs lying entirely inside [start, end). */
export function urlsWithin(urls: readonly UrlRef[], start: number, end: number): UrlRef[] {
  const out: UrlRef[] = [];
  for (let i = firstFrom(urls, start); i < urls.length && urls[i]!.span.start < end; i++) if (urls[i]!.span.end <= end) out.push(urls[i]!);
  return out;
}

/** Query-parameter names that carry a credential by design (auth for that host, not data for it). */
export const AUTH_PARAM = /^(?:key|api[_-]?key|apikey|appid|app[_-]?id|access[_-]?token|token|auth|auth[_-]?token|client[_-]?secret|signature|sig|x-amz-[a-z-]+)$/i;
