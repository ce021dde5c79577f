import {sanitize} from '../../../src/core/security/sanitizer/index.js';
import type {Direction, SanitizeResult} from '../../../src/core/security/sanitizer/index.js';

export function scan(input: unknown, opts: {direction?: Direction; secrets?: string[]} = {}): SanitizeResult {
  const secrets = opts.secrets;
  return sanitize(input, {direction: opts.direction ?? 'output', ...(secrets ? {secrets: {values: () => secrets}} : {})});
}

/** Rules of the findings that act (block or redact). */
export function acting(r: SanitizeResult): string[] {
  return [...new Set(r.findings.filter((f) => f.action !== 'allow').map((f) => f.rule))];
}

/** Random-looking fake token material (never a real credential). */
export function fake(len: number, alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'): string {
  let s = '';
  let x = 0x2545f491 ^ len;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += alphabet[(x >>> 0) % alphabet.length];
  }
  return s;
}
