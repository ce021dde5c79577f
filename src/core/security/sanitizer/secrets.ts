import {createHash} from 'node:crypto';

import type {SecretSource, Span} from './types.js';

/**
 * Vault values in the text, exact or encoded: base64 and base64url at any byte alignment (so a value
 * inside a longer encoded blob is found too), hex in either case, and percent-encoding.
 */

export type SecretForm = 'exact' | 'base64' | 'base64url' | 'hex' | 'url-encoded';

export interface SecretHit {
  span: Span;
  form: SecretForm;
  /** What redactions say instead of the value: the vault's name for it, or a short hash. */
  label: string;
}

interface Needle {
  text: string;
  form: SecretForm;
  label: string;
}

/** Characters of base64(pad + value) that depend only on the value's bytes, for each of the 3 alignments. */
function base64Forms(value: Buffer, enc: 'base64' | 'base64url'): string[] {
  const out: string[] = [];
  for (let k = 0; k < 3; k++) {
    const s = Buffer.concat([Buffer.alloc(k), value]).toString(enc);
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + value.length)) / 6); // exclusive: chars fully inside the value's bits
    const part = s.slice(first, last);
    if (part.length >= 8) out.push(part);
  }
  return out;
}

const B64 = /[A-Za-z0-9+/]/;
const B64URL = /[A-Za-z0-9_-]/;

/** Take in the one character on each side that mixes the value's bits with its neighbours', and the padding: a redaction leaves no bit of it. */
function widenBase64(text: string, span: Span, form: 'base64' | 'base64url'): void {
  const alpha = form === 'base64' ? B64 : B64URL;
  if (span.start > 0 && alpha.test(text[span.start - 1]!)) span.start--;
  if (span.end < text.length && alpha.test(text[span.end]!)) span.end++;
  for (let pad = 0; pad < 2 && text[span.end] === '='; pad++) span.end++;
}

export class SecretMatcher {
  private readonly needles: Needle[] = [];

  constructor(source: SecretSource | undefined, minLength: number) {
    if (!source) return;
    const seen = new Set<string>();
    for (const value of source.values()) {
      if (value.length < minLength || seen.has(value)) continue;
      seen.add(value);
      const label = source.nameOf?.(value) ?? `secret:${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
      const buf = Buffer.from(value, 'utf8');
      const add = (text: string, form: SecretForm): void => {
        if (text.length >= minLength && !this.needles.some((n) => n.text === text)) this.needles.push({text, form, label});
      };
      add(value, 'exact');
      for (const f of base64Forms(buf, 'base64')) add(f, 'base64');
      for (const f of base64Forms(buf, 'base64url')) add(f, 'base64url');
      const hex = buf.toString('hex');
      add(hex, 'hex');
      add(hex.toUpperCase(), 'hex');
      const pct = encodeURIComponent(value);
      if (pct !== value) add(pct, 'url-encoded');
      const allPct = hex.replace(/../g, (h) => '%' + h);
      add(allPct, 'url-encoded');
      add(allPct.toUpperCase(), 'url-encoded');
    }
    // Longest first, so the exact value wins over a shorter aligned base64 fragment at the same place.
    this.needles.sort((a, b) => b.text.length - a.text.length);
  }

  get empty(): boolean {
    return this.needles.length === 0;
  }

  find(text: string): SecretHit[] {
    if (this.needles.length === 0) return [];
    const all: SecretHit[] = [];
    for (const n of this.needles) {
      for (let i = text.indexOf(n.text); i >= 0; i = text.indexOf(n.text, i + n.text.length)) {
        const span = {start: i, end: i + n.text.length};
        if (n.form === 'base64' || n.form === 'base64url') widenBase64(text, span, n.form);
        all.push({span, form: n.form, label: n.label});
      }
    }
    // Overlaps (an aligned base64 fragment inside a longer form): keep the earliest, longest.
    all.sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
    const hits: SecretHit[] = [];
    for (const h of all) if (hits.length === 0 || h.span.start >= hits[hits.length - 1]!.span.end) hits.push(h);
    return hits;
  }
}
