import type {TextContext} from './context.js';
import type {Cue} from './cue.js';
import type {TextView} from './text-view.js';
import type {Category, Severity, Span} from './types.js';

/**
 * Weighs cues into a decision. Cues close together (gaps under 400 chars, 1200 at most from the first)
 * form a cluster whose score is the sum of its distinct rules' weights, adjusted for context:
 *   quoted or in code ×0.35 per cue · third person ×0.5 per imperative cue · words that discuss attacks
 *   nearby ×0.6 (one) or ×0.4 (two or more) · +1 imperative at a sentence start · +2 letters folded or
 *   invisibles inside a phrase (evasion) · +1 inside hidden HTML · +2 inside a decoded blob.
 * A cluster at or above the block score blocks; a lower one is reported as info when its score is ≥ 1
 * or its cues alone would have blocked (a quoted or discussed phrase: visible, not acted on).
 */

export interface IntentFinding {
  rule: string;
  category: Category;
  severity: Severity;
  block: boolean;
  reason: string;
  /** Normalized-text span. */
  span: Span;
}

const CLUSTER_GAP = 400;
/** A passage, not a document: weak cues pages apart do not add up. */
const CLUSTER_SPAN = 1200;
/** After this many blocking passages the verdict cannot change; the rest of a flood is not scored. */
const MAX_BLOCKING_CLUSTERS = 100;
const QUOTED = 0.35;
const THIRD_PERSON = 0.5;
/** A blob boosts only evidence that stands on its own a little ("admin:pw" decoded is not a fake turn). */
const ENCODED_MIN = 1.5;

export function weighIntent(cues: Cue[], view: TextView, ctx: TextContext, opts: {encoded: boolean; blockScore: number}): IntentFinding[] {
  if (cues.length === 0) return [];
  cues.sort((a, b) => a.span.start - b.span.start);
  const out: IntentFinding[] = [];
  let cluster: Cue[] = [];
  let end = -Infinity;
  let blocking = 0;
  let skipped = 0;
  const flush = (): void => {
    if (!cluster.length) return;
    if (blocking >= MAX_BLOCKING_CLUSTERS) skipped++;
    else {
      const found = scoreCluster(cluster, view, ctx, opts);
      if (found.some((f) => f.block)) blocking++;
      out.push(...found);
    }
    cluster = [];
  };
  for (const c of cues) {
    if (c.span.start - end > CLUSTER_GAP || (cluster.length && c.span.start - cluster[0]!.span.start > CLUSTER_SPAN)) flush();
    cluster.push(c);
    end = Math.max(end === -Infinity ? c.span.end : end, c.span.end);
  }
  flush();
  if (skipped > 0) {
    const last = out.filter((f) => f.block).pop()!;
    last.reason += ` (${skipped} further passages not scored: the verdict was already block)`;
  }
  return out;
}

function scoreCluster(cluster: Cue[], view: TextView, ctx: TextContext, opts: {encoded: boolean; blockScore: number}): IntentFinding[] {
  const primary = new Set(cluster.filter((c) => !c.supports).map((c) => c.category));
  const counted = cluster.filter((c) => !c.supports || primary.has(c.supports));
  if (counted.every((c) => c.supports)) return [];
  const byRule = new Map<string, number>();
  const notes = new Set<string>();
  let boost = 0;
  let startBoost = false;
  for (const c of counted) {
    let w = c.weight;
    const quoted = c.quotable !== false && ctx.isQuoted(c.span);
    if (quoted) {
      w *= QUOTED;
      notes.add('quoted');
    }
    if (c.imperative && ctx.isThirdPerson(c.span)) {
      w *= THIRD_PERSON;
      notes.add('described in the third person');
    } else if (c.imperative && !quoted && !startBoost && ctx.atSentenceStart(c.span)) startBoost = true;
    byRule.set(c.rule, Math.max(byRule.get(c.rule) ?? 0, w));
  }
  let raw = 0;
  for (const w of byRule.values()) raw += w;
  const undiscounted = new Map<string, number>();
  for (const c of counted) undiscounted.set(c.rule, Math.max(undiscounted.get(c.rule) ?? 0, c.weight));
  const wouldBlock = [...undiscounted.values()].reduce((a, b) => a + b, 0) >= opts.blockScore;
  const span = {start: cluster[0]!.span.start, end: Math.max(...cluster.map((c) => c.span.end))};
  if (!opts.encoded) {
    const d = ctx.discussionCount(span);
    if (d > 0) {
      raw *= d === 1 ? 0.6 : 0.4;
      notes.add('discussed, not addressed');
    }
  }
  if (startBoost) {
    boost += 1;
    notes.add('imperative');
  }
  if (counted.some((c) => !c.supports && view.alteredWithin(c.span))) {
    boost += 2;
    notes.add('disguised with look-alike or invisible characters');
  }
  if (counted.some((c) => ctx.isHiddenHtml(c.span))) {
    boost += 1;
    notes.add('hidden from human readers');
  }
  if (opts.encoded && raw >= ENCODED_MIN) {
    boost += 2;
    notes.add('inside an encoded blob');
  }
  const score = raw + boost;
  const block = score >= opts.blockScore;
  const detail = `score ${score.toFixed(1)}${block ? ` ≥ ${opts.blockScore}` : ` < ${opts.blockScore}`}${notes.size ? `; ${[...notes].join(', ')}` : ''}`;
  if (!block) {
    if (score < 1 && !wouldBlock) return []; // weak and unremarkable; a discounted strong phrase is still worth an info line
    const top = counted.filter((c) => !c.supports).sort((a, b) => b.weight - a.weight)[0]!;
    return [{rule: top.rule, category: top.category, severity: 'info', block: false, reason: `${top.reason} (not blocked: ${detail})`, span: top.span}];
  }
  const severity: Severity = score >= 2 * opts.blockScore ? 'critical' : 'high';
  return counted.filter((c) => !c.supports).map((c) => ({rule: c.rule, category: c.category, severity, block: true, reason: `${c.reason} (${detail})`, span: c.span}));
}
