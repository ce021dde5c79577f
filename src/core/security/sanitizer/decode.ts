import type {Span} from './types.js';

/**
 * Embedded blobs (base64, base64url, hex, percent-encoding) that decode to readable text, so the
 * rules can look inside them. Decoding is bounded: per blob, in total per call (DecodeBudget), and in
 * depth by the caller. Finding candidates is linear (single-class runs, indexOf for '%').
 */

export type Encoding = 'base64' | 'base64url' | 'hex' | 'url';

export interface DecodedBlob {
  span: Span;
  encoding: Encoding;
  text: string;
}

export class DecodeBudget {
  decoded = 0;
  blobs = 0;
  limited = false;
  constructor(
    readonly maxBlobBytes: number,
    readonly maxTotalBytes: number,
    readonly maxBlobs: number,
  ) {}

  /** Reserve room for one blob of n decoded bytes; false (and limited) when the total or the count is spent. */
  take(n: number): boolean {
    if (this.decoded + n > this.maxTotalBytes || this.blobs >= this.maxBlobs) {
      this.limited = true;
      return false;
    }
    this.decoded += n;
    this.blobs++;
    return true;
  }
}

const MIN_B64 = 16;
const MIN_HEX = 16;
const MIN_TEXT = 8;
/** `+` and a length check rather than {16,}: V8 runs a counted loop over a 1 MiB run ~100× slower. */
const B64_RUN = /[A-Za-z0-9+/_-]+/g;
const UTF8 = new TextDecoder('utf-8', {fatal: true});

/** Readable text: valid UTF-8, almost all printable, some letters. Binary (images, digests, ciphertext) is not. */
export function readable(buf: Buffer): string | undefined {
  if (buf.length < MIN_TEXT) return undefined;
  let control = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b < 9 || (b > 13 && b < 32) || b === 127) control++;
  }
  if (control > 0.05 * buf.length) return undefined; // binary: cheap to tell from the bytes
  let text: string;
  try {
    text = UTF8.decode(buf);
  } catch {
    return undefined;
  }
  let printable = 0;
  let letters = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c !== 127 && !(c >= 0x80 && c < 0xa0))) printable++;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
  }
  if (printable < 0.95 * text.length || letters < 0.3 * text.length) return undefined;
  return text;
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9]/.test(c);
}

/** Decode one token as base64/base64url/hex/percent if it yields readable text. */
export function decodeToken(token: string, maxBytes: number): {encoding: Encoding; text: string} | undefined {
  if (token.length >= 6 && /%[0-9A-Fa-f]{2}/.test(token)) {
    const t = percentDecode(token.slice(0, maxBytes * 3));
    const text = t === undefined ? undefined : readable(Buffer.from(t, 'utf8'));
    if (text !== undefined && text !== token) return {encoding: 'url', text};
  }
  if (token.length >= MIN_HEX && /^[0-9a-fA-F]+$/.test(token)) {
    const n = Math.min(token.length, maxBytes * 2) & ~1;
    const text = readable(Buffer.from(token.slice(0, n), 'hex'));
    if (text !== undefined) return {encoding: 'hex', text};
    return undefined;
  }
  const core = token.replace(/=+$/, '');
  if (core.length >= MIN_B64 && /^[A-Za-z0-9+/_-]+$/.test(core) && core.length % 4 !== 1) {
    const url = /[-_]/.test(core);
    if (url && /[+/]/.test(core)) return undefined;
    const limit = Math.ceil((maxBytes * 4) / 3);
    const cut = core.length <= limit ? core : core.slice(0, Math.floor(limit / 4) * 4);
    const text = readable(Buffer.from(cut, url ? 'base64url' : 'base64'));
    if (text !== undefined) return {encoding: url ? 'base64url' : 'base64', text};
  }
  return undefined;
}

function percentDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    // a stray '%': decode the well-formed escapes only
    try {
      return Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** How many %XX escapes the token has, counting up to `enough`. */
function countEscapes(token: string, enough: number): number {
  let n = 0;
  for (let k = token.indexOf('%'); k >= 0 && n < enough; k = token.indexOf('%', k + 1)) if (isHex(token.charCodeAt(k + 1)) && isHex(token.charCodeAt(k + 2))) n++;
  return n;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Whitespace and the delimiters around URLs in prose and markup. */
function breaksToken(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 60 || c === 62 || c === 40 || c === 41 || c === 91 || c === 93 || c === 0xa0;
}

/** Every embedded blob that decodes to readable text, within the budget. */
export function findBlobs(text: string, budget: DecodeBudget): DecodedBlob[] {
  const out: DecodedBlob[] = [];
  const add = (start: number, end: number, token: string): void => {
    if (budget.limited) return;
    const d = decodeToken(token, budget.maxBlobBytes);
    if (!d) return;
    if (!budget.take(d.text.length)) return;
    out.push({span: {start, end}, encoding: d.encoding, text: d.text});
  };
  // base64 / base64url / hex runs (hex is a subset of the base64 alphabet; decodeToken tells them apart).
  B64_RUN.lastIndex = 0;
  for (let m = B64_RUN.exec(text); m; m = B64_RUN.exec(text)) {
    if (m[0].length < MIN_B64) continue;
    const start = m.index;
    let end = start + m[0].length;
    while (end < text.length && end - start - m[0].length < 2 && text[end] === '=') end++;
    if (isWordChar(text[start - 1]) || isWordChar(text[end])) continue;
    add(start, end, text.slice(start, end));
  }
  // percent-encoded tokens: from each '%XX', widen to the surrounding token once.
  let covered = -1;
  for (let i = text.indexOf('%'); i >= 0; i = text.indexOf('%', i + 1)) {
    if (i < covered || !isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) continue;
    let s = i;
    let e = i;
    const cap = 64 * 1024;
    while (s > 0 && i - s < cap && !breaksToken(text.charCodeAt(s - 1))) s--;
    while (e < text.length && e - i < cap && !breaksToken(text.charCodeAt(e))) e++;
    covered = e;
    const token = text.slice(s, e);
    if (countEscapes(token, 3) >= 3) add(s, e, token);
  }
  return out;
}
