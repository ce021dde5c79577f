import type {Span} from './types.js';

/**
 * Where a match sits, which decides whether it is an instruction or a mention: inside quotes or code,
 * inside hidden HTML, next to words that discuss attacks, at the start of a sentence, or in the third
 * person ("tell the model to ignore …"). Computed once per text; lookups are binary searches.
 */
export class TextContext {
  private readonly quoted: Span[];
  private readonly hidden: Span[];
  private readonly discussion: {at: number; word: string}[];

  /** Discussion words in the surroundings the text came with (for a JSON string: its keys and siblings). */
  private readonly around: Set<string>;

  constructor(
    private readonly text: string,
    around = '',
  ) {
    this.quoted = quotedRanges(text);
    this.hidden = hiddenHtmlRanges(text);
    this.discussion = discussionMarkers(text);
    this.around = new Set(discussionMarkers(around).map((d) => d.word));
  }

  /** Inside quotes, backticks or a fenced block that is not itself (nearly) the whole text. */
  isQuoted(span: Span): boolean {
    const r = containing(this.quoted, span);
    return r !== undefined && r.end - r.start < 0.8 * this.text.length;
  }

  isHiddenHtml(span: Span): boolean {
    return containing(this.hidden, span) !== undefined;
  }

  /** Distinct discussion words (attack, payload, example, detect …) within `radius` of the span. */
  discussionCount(span: Span, radius = 300): number {
    const from = span.start - radius;
    const to = span.end + radius;
    const seen = new Set<string>(this.around);
    let lo = lowerBound(this.discussion, from);
    for (; lo < this.discussion.length && this.discussion[lo]!.at < to; lo++) seen.add(this.discussion[lo]!.word);
    return seen.size;
  }

  /** The span opens a sentence or line (after punctuation, markup or "please"): the imperative position. */
  atSentenceStart(span: Span): boolean {
    let i = span.start - 1;
    for (let skipped = 0; i >= 0 && skipped < 12; i--, skipped++) {
      const c = this.text[i]!;
      if (c === '\n') return true;
      if (!/[ \t"'“”‘’`*_#>\-[\](){}<!|~=]/.test(c)) break;
    }
    if (i < 0) return true;
    if (/[.!?:;,]/.test(this.text[i]!)) return true;
    const word = /([A-Za-z]+)$/.exec(this.text.slice(Math.max(0, i - 15), i + 1))?.[1]?.toLowerCase();
    return word !== undefined && IMPERATIVE_LEAD.has(word);
  }

  /** "… telling it to disregard …", "… makes the model ignore …": described, not commanded. */
  isThirdPerson(span: Span): boolean {
    const window = this.text.slice(Math.max(0, span.start - 48), span.start).toLowerCase();
    const before = window.slice(Math.max(...['.', ';', ':', '!', '?', '\n'].map((p) => window.lastIndexOf(p))) + 1);
    const words = before.split(/[^a-z']+/).filter(Boolean).slice(-3);
    const last = words[words.length - 1];
    const prev = words[words.length - 2];
    if (last === 'you' || last === 'must' || last === 'please' || (last === 'to' && prev === 'you')) return false;
    return words.some((w) => THIRD_PERSON.has(w));
  }
}

const IMPERATIVE_LEAD = new Set(['please', 'now', 'also', 'then', 'just', 'kindly', 'immediately', 'first', 'instead', 'and', 'so']);
const THIRD_PERSON = new Set(['to', 'it', 'its', 'model', 'models', 'llm', 'llms', 'bot', 'bots', 'agent', 'agents', 'chatbot', 'would', 'will', 'can', 'could', 'might', 'may', 'should', 'that', 'which', 'who', 'often', 'usually', 'them', 'they', 'attacker', 'attackers', 'payloads']);

/** Words that frame a phrase as the subject of discussion. "example" after a dot is a hostname (.example), not a word. */
const DISCUSSION =
  /(?<![\w.@/])(?:prompt[- ]injections?|jailbreak(?:s|ing)?|attack(?:s|er|ers|ed)?|payloads?|(?<![.@/-])examples?|e\.g\.|for instance|such as|phrases?|classif(?:ier|y|ied)|detect(?:s|ion|or|ed|ing)?|mitigat\w*|owasp|llm01|red[- ]team\w*|tested|testing|filters?|defen[cs]es?|malicious|adversarial|vulnerabilit\w*|research\w*|cve-\d+|exploit\w*|refus(?:ed|al)|incident|injected|dataset|benign|writeup|evade|evasion)(?![\w-]|\.\w)/gi;

function discussionMarkers(text: string): {at: number; word: string}[] {
  const out: {at: number; word: string}[] = [];
  for (const m of text.matchAll(DISCUSSION)) out.push({at: m.index!, word: m[0].toLowerCase().replace(/s$/, '')});
  return out;
}

const MAX_QUOTE = 400;

/** Quoted and code ranges: fenced blocks, inline code, "…", “…”, «…», and '…' used as quotes (not apostrophes). */
function quotedRanges(text: string): Span[] {
  const out: Span[] = [];
  let fenceStart = -1;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    if (/^\s{0,3}(?:```|~~~)/.test(line)) {
      if (fenceStart < 0) fenceStart = lineStart;
      else {
        out.push({start: fenceStart, end: lineEnd});
        fenceStart = -1;
      }
    } else {
      inlineQuotes(line, lineStart, out); // string literals inside code are quotes too
    }
    lineStart = lineEnd + 1;
  }
  if (fenceStart >= 0) out.push({start: fenceStart, end: text.length});
  out.sort((a, b) => a.start - b.start);
  return out;
}

const CLOSERS: Record<string, string> = {'"': '"', '`': '`', '“': '”', '«': '»', '„': '“', '‘': '’', "'": "'"};

function inlineQuotes(line: string, offset: number, out: Span[]): void {
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    const close = CLOSERS[c];
    if (close === undefined) continue;
    if (c === "'" && i > 0 && /\w/.test(line[i - 1]!)) continue; // an apostrophe: don't, user's
    if ((c === '"' || c === "'") && i > 0 && line[i - 1] === '=') continue; // an attribute value: src="…" is markup, not a quotation
    let j = line.indexOf(close, i + 1);
    if (c === "'") while (j >= 0 && j + 1 < line.length && /\w/.test(line[j + 1]!)) j = line.indexOf(close, j + 1);
    if (j < 0 || j - i > MAX_QUOTE) continue;
    out.push({start: offset + i, end: offset + j + 1});
    i = j;
  }
}

const HIDDEN_TAG = /<[a-z][^>]{0,300}?(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](?:px)?\b|opacity\s*:\s*0(?![.\d])|color\s*:\s*(?:white|#fff\b|#ffffff)|\shidden[\s>]|aria-hidden)[^>]{0,300}>/gi;

/** HTML comments and elements styled invisible: text a reader does not see but a model does. */
function hiddenHtmlRanges(text: string): Span[] {
  const out: Span[] = [];
  for (let i = text.indexOf('<!--'); i >= 0; i = text.indexOf('<!--', i + 4)) {
    const end = text.indexOf('-->', i + 4);
    out.push({start: i, end: end < 0 ? text.length : end + 3});
    if (end < 0) break;
    i = end;
  }
  for (const m of text.matchAll(HIDDEN_TAG)) {
    const close = text.indexOf('</', m.index! + m[0].length);
    out.push({start: m.index!, end: close < 0 ? Math.min(text.length, m.index! + 4000) : close});
  }
  out.sort((a, b) => a.start - b.start);
  return out;
}

function lowerBound(arr: {at: number}[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]!.at < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A range (sorted by start) that contains the span: the nearest few starting at or before it are checked. */
function containing(ranges: Span[], span: Span): Span | undefined {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.start <= span.start) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo - 1; k >= 0 && k >= lo - 8; k--) if (ranges[k]!.end >= span.end) return ranges[k];
  return undefined;
}
