import {hiddenClass, isCjkIdeograph, isEmojiModifier, isJoiningScript, isPictographic, isRtlLetter} from './chars.js';
import type {HiddenClass} from './chars.js';
import type {Action, Severity} from './types.js';

/**
 * Hidden Unicode: tag characters (invisible ASCII), zero-width characters, bidi embeddings and
 * overrides, runs of variation selectors. Legitimate uses are let through: subdivision flags (tags
 * after U+1F3F4), ZWJ in emoji sequences, joiners in scripts that shape with them, a leading BOM,
 * one variation selector after its base character, isolates and embeddings next to right-to-left text.
 */

export interface HiddenRun {
  cls: HiddenClass;
  start: number;
  end: number;
  /** Code points in the run. */
  count: number;
  rule: HiddenRule;
  /** For tag runs: the ASCII they spell (scanned by the caller for instructions; never put in a reason). */
  hidden?: string;
}

export type HiddenRule = 'unicode.tag-text' | 'unicode.tag' | 'unicode.zero-width-payload' | 'unicode.zero-width' | 'unicode.bidi-override' | 'unicode.bidi-control' | 'unicode.variation-payload' | 'unicode.variation';

export const HIDDEN_RULES: Record<HiddenRule, {action: Action; severity: Severity; reason: (r: HiddenRun) => string}> = {
  'unicode.tag-text': {action: 'block', severity: 'high', reason: (r) => `${r.count} invisible tag characters spell ${r.hidden?.length ?? 0} characters of hidden text`},
  'unicode.tag': {action: 'redact', severity: 'low', reason: (r) => `${r.count} invisible tag character(s) (stripped)`},
  'unicode.zero-width-payload': {action: 'block', severity: 'high', reason: (r) => `run of ${r.count} zero-width characters, long enough to encode a hidden message`},
  'unicode.zero-width': {action: 'redact', severity: 'low', reason: (r) => `${r.count} zero-width character(s) inside text (stripped)`},
  'unicode.bidi-override': {action: 'redact', severity: 'medium', reason: () => 'bidi override reorders how the text displays (stripped)'},
  'unicode.bidi-control': {action: 'redact', severity: 'low', reason: () => 'bidi embedding or isolate outside right-to-left text (stripped)'},
  'unicode.variation-payload': {action: 'block', severity: 'high', reason: (r) => `run of ${r.count} variation selectors, which can smuggle bytes after a visible character`},
  'unicode.variation': {action: 'redact', severity: 'low', reason: (r) => `${r.count} stacked variation selectors (stripped)`},
};

/** Tag text at least this long is hidden writing, not a stray tag. */
const TAG_TEXT_MIN = 4;
/** A zero-width run this long can carry a payload (8 characters per byte in the common encodings). */
const ZW_PAYLOAD_MIN = 16;
const VS_PAYLOAD_MIN = 4;
const RTL_WINDOW = 32;

export function hiddenRuns(text: string): HiddenRun[] {
  const runs: HiddenRun[] = [];
  if (!/[\u00ad-\uffff]/.test(text)) return runs;
  const n = text.length;
  for (let i = 0; i < n; ) {
    const cp = text.codePointAt(i)!;
    const cls = cp >= 0xad ? hiddenClass(cp) : undefined;
    if (cls === undefined || cls === 'mark' || cls === 'soft') {
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    // Extend a run of the same class (zero-width runs may mix their members).
    let j = i;
    let count = 0;
    while (j < n) {
      const c = text.codePointAt(j)!;
      if (hiddenClass(c) !== cls) break;
      j += c > 0xffff ? 2 : 1;
      count++;
    }
    const run = classify(text, cls, i, j, count);
    if (run) runs.push(run);
    i = j;
  }
  return runs;
}

function classify(text: string, cls: HiddenClass, start: number, end: number, count: number): HiddenRun | undefined {
  const before = codePointBefore(text, start);
  const after = end < text.length ? text.codePointAt(end)! : -1;
  switch (cls) {
    case 'tag': {
      if (before === 0x1f3f4 && count <= 7 && codePointBefore(text, end) === 0xe007f) return undefined; // 🏴 + region tags: a subdivision flag
      let hidden = '';
      for (let k = start; k < end; k += 2) {
        const v = text.codePointAt(k)! - 0xe0000;
        if (v >= 0x20 && v < 0x7f) hidden += String.fromCharCode(v);
      }
      if (/[A-Za-z]/.test(hidden) && hidden.length >= TAG_TEXT_MIN)
        return {cls, start, end, count, rule: 'unicode.tag-text', hidden};
      return {cls, start, end, count, rule: 'unicode.tag'};
    }
    case 'zero-width': {
      if (count === 1) {
        const cp = text.codePointAt(start)!;
        if (cp === 0xfeff && start === 0) return undefined; // byte-order mark
        if (cp === 0x200d && (isPictographic(before) || isEmojiModifier(before)) && isPictographic(after)) return undefined; // emoji ZWJ sequence
        if (cp <= 0x200d && (isJoiningScript(before) || isJoiningScript(after))) return undefined; // ZWSP/ZWNJ/ZWJ in shaping scripts
      }
      if (count >= ZW_PAYLOAD_MIN)
        return {cls, start, end, count, rule: 'unicode.zero-width-payload'};
      return {cls, start, end, count, rule: 'unicode.zero-width'};
    }
    case 'bidi': {
      const override = /[\u202d\u202e]/.test(text.slice(start, end));
      if (!override && rtlNear(text, start, end)) return undefined;
      return override
        ? {cls, start, end, count, rule: 'unicode.bidi-override'}
        : {cls, start, end, count, rule: 'unicode.bidi-control'};
    }
    case 'variation': {
      if (count === 1) return undefined; // one selector after its base: emoji presentation, ideographic variants
      if (count >= VS_PAYLOAD_MIN)
        return {cls, start, end, count, rule: 'unicode.variation-payload'};
      if (count === 2 && isCjkIdeograph(before)) return undefined;
      return {cls, start, end, count, rule: 'unicode.variation'};
    }
    default:
      return undefined;
  }
}

function codePointBefore(text: string, i: number): number {
  if (i <= 0) return -1;
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) return text.codePointAt(i - 2)!;
  return lo;
}

function rtlNear(text: string, start: number, end: number): boolean {
  const from = Math.max(0, start - RTL_WINDOW);
  const to = Math.min(text.length, end + RTL_WINDOW);
  for (let k = from; k < to; k++) if (isRtlLetter(text.charCodeAt(k))) return true;
  return false;
}
