import type {Span} from './types.js';

/**
 * A cue is one piece of evidence of intent (an override phrase, an AI-addressed note, a command that
 * ships a file out). Cues are weighed together by intent.ts; none blocks on its own merits alone
 * unless its weight reaches the block score.
 */
export interface Cue {
  rule: string;
  category: 'injection' | 'exfiltration';
  weight: number;
  /** Offsets in the normalized text (TextView.text). */
  span: Span;
  reason: string;
  /** An imperative phrase: boosted at a sentence start, discounted in the third person. */
  imperative?: boolean;
  /** False for structural evidence (commands, data in URLs) that quoting does not make harmless. */
  quotable?: boolean;
  /** Counts only in a cluster that also holds a non-supporting cue of this category. */
  supports?: 'exfiltration' | 'injection';
}

export interface PhraseRule {
  rule: string;
  category?: 'injection' | 'exfiltration';
  re: RegExp;
  /** Fixed weight, or computed from the match (undefined: not a cue after all). */
  weight: number | ((m: RegExpExecArray) => number | undefined);
  reason: string;
  imperative?: boolean;
}

export function phraseCues(text: string, rules: readonly PhraseRule[]): Cue[] {
  const out: Cue[] = [];
  for (const r of rules) {
    r.re.lastIndex = 0;
    for (let m = r.re.exec(text); m; m = r.re.exec(text)) {
      if (m[0].length === 0) {
        r.re.lastIndex++;
        continue;
      }
      const w = typeof r.weight === 'number' ? r.weight : r.weight(m);
      if (w === undefined || w <= 0) continue;
      out.push({rule: r.rule, category: r.category ?? 'injection', weight: w, span: {start: m.index, end: m.index + m[0].length}, reason: r.reason, ...(r.imperative ? {imperative: true} : {})});
    }
  }
  return out;
}
