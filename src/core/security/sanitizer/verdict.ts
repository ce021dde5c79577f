import type {RawFinding} from './scan.js';
import type {Action, Finding} from './types.js';

const RANK: Record<Action, number> = {allow: 0, redact: 1, block: 2};

/** The strongest action any finding asks for. */
export function verdictOf(findings: readonly Finding[]): Action {
  let v: Action = 'allow';
  for (const f of findings) if (RANK[f.action] > RANK[v]) v = f.action;
  return v;
}

/** Same rule over overlapping spans (a value found both directly and inside its decoded blob): keep one. */
export function dedupeFindings(findings: RawFinding[]): RawFinding[] {
  // A match found directly is more precise than the same rule reported for a whole decoded blob around it.
  const direct = findings.filter((f) => !f.via);
  const precise = findings.filter((f) => !f.via || !direct.some((d) => d.rule === f.rule && d.path === f.path && d.span.start >= f.span.start && d.span.end <= f.span.end));
  const sorted = [...precise].sort((a, b) => cmp(a.path ?? '', b.path ?? '') || a.span.start - b.span.start || b.span.end - a.span.end);
  const out: RawFinding[] = [];
  const lastByRule = new Map<string, RawFinding>();
  for (const f of sorted) {
    const key = `${f.path ?? ''}\u0000${f.rule}\u0000${f.action}`;
    const prev = lastByRule.get(key);
    if (prev && f.span.start < prev.span.end && f.span.end <= prev.span.end) continue;
    lastByRule.set(key, f);
    out.push(f);
  }
  return out.sort((a, b) => cmp(a.path ?? '', b.path ?? '') || a.span.start - b.span.start);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The public shape: internal replacement text is not part of a finding. */
export function publicFinding(f: RawFinding): Finding {
  const {replacement: _r, ...rest} = f;
  void _r;
  return rest;
}

/**
 * Apply redactions: each redact finding's span becomes its replacement, hidden characters (`strip`, flat
 * start/end pairs in order) are removed. Overlapping edits merge into one (a replacement wins over a
 * strip), so the output never keeps half a secret.
 */
export function redactText(text: string, findings: readonly RawFinding[], strip: readonly number[]): string {
  const edits: {start: number; end: number; with: string}[] = [];
  for (const f of findings) if (f.action === 'redact' && f.replacement) edits.push({start: f.span.start, end: f.span.end, with: f.replacement});
  if (edits.length === 0 && strip.length === 0) return text;
  edits.sort((a, b) => a.start - b.start || b.end - a.end);
  const parts: string[] = [];
  let at = 0;
  let cur: {start: number; end: number; with: string} | undefined;
  const flush = (): void => {
    if (!cur) return;
    if (cur.start > at) parts.push(text.slice(at, cur.start));
    if (cur.with) parts.push(cur.with);
    at = Math.max(at, cur.end);
    cur = undefined;
  };
  const take = (start: number, end: number, repl: string): void => {
    if (cur && start < cur.end) {
      cur.end = Math.max(cur.end, end);
      cur.with ||= repl;
      return;
    }
    flush();
    cur = {start, end, with: repl};
  };
  // Merge the two sorted lists: redactions (few) and strips (possibly many).
  let e = 0;
  for (let s = 0; s <= strip.length; s += 2) {
    const sStart = s < strip.length ? strip[s]! : Infinity;
    while (e < edits.length && edits[e]!.start <= sStart) {
      take(edits[e]!.start, edits[e]!.end, edits[e]!.with);
      e++;
    }
    if (s < strip.length) take(sStart, strip[s + 1]!, '');
  }
  flush();
  parts.push(text.slice(at));
  return parts.join('');
}
