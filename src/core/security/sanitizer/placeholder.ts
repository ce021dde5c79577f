/**
 * Documentation examples and placeholders are not credentials. Policy: a value that contains EXAMPLE
 * (AWS's documented keys, AKIAIOSFODNN7EXAMPLE), is mostly one repeated character (ghp_xxxx…, ****),
 * is a template or variable reference (<password>, ${DB_PASSWORD}, {{ .Values.x }}), a truncation
 * (sk-…a1B2), or a stock word (password, changeme, your-api-key) is reported as info and left alone.
 */

const WORDS = /^(?:password|passwd|pass|secret|changeme|change-me|change_me|postgres|root|admin|anonymous|guest|user|username|test|example|dummy|sample|placeholder|redacted|none|null|token|apikey|api_key|xxx+|foo|bar|foobar|s3cr3t|letmein|default|mysecretpassword|hunter2)$/i;
const MARKERS = /example|your[_-]?|[_-]here\b|placeholder|redacted|insert[_-]|replace[_-]?me|dummy|<[^>]*>|\$\{|\{\{|%s|\.\.\.|…|\*{3,}/i;

export function isPlaceholder(value: string, prefix = ''): boolean {
  const v = value.startsWith(prefix) ? value.slice(prefix.length) : value;
  if (v.length === 0) return true;
  if (WORDS.test(v) || MARKERS.test(v)) return true;
  if (/^\$[A-Za-z_]\w*$/.test(v)) return true; // $DB_PASSWORD
  return dominantShare(v) >= 0.6;
}

/** Share of the most frequent character: 1.0 for "xxxxxxxx", ~0.1 for random strings. */
function dominantShare(v: string): number {
  const counts = new Map<string, number>();
  let max = 0;
  for (const c of v) {
    const n = (counts.get(c) ?? 0) + 1;
    counts.set(c, n);
    if (n > max) max = n;
  }
  return max / v.length;
}

/** Shannon entropy in bits per character. */
export function entropy(v: string): number {
  const counts = new Map<string, number>();
  for (const c of v) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / v.length;
    h -= p * Math.log2(p);
  }
  return h;
}
