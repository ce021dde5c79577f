import {StringDecoder} from 'node:string_decoder';

/**
 * The one redactor: knows every secret value this process has held (vault values once unlocked) and
 * replaces each, and its base64 (standard and URL-safe, at any alignment inside a longer base64
 * text), hex and URL-encoded forms, before text reaches a log, an error message, task output or a
 * terminal. Values stay known after the vault locks: output produced later may still carry them.
 */
export const REDACTED = '[REDACTED]';
/** Shorter values would redact ordinary text; the vault warns about them. */
export const MIN_SECRET_CHARS = 4;
/** An encoded fragment this short could match by chance. */
const MIN_FRAGMENT_CHARS = 8;

/** The forms of one value that must never appear. */
export function secretForms(value: string): string[] {
  const raw = Buffer.from(value, 'utf8');
  const forms = new Set<string>([value, raw.toString('hex'), raw.toString('hex').toUpperCase(), encodeURIComponent(value)]);
  for (let k = 0; k < 3; k++) {
    // Inside a longer base64 text the value starts at any of three byte alignments; the characters
    // that depend on the value's bytes alone are the same whatever surrounds it.
    const shifted = Buffer.concat([Buffer.alloc(k), raw]);
    const from = Math.ceil((8 * k) / 6);
    const to = Math.floor((8 * (k + raw.length)) / 6);
    for (const b64 of [shifted.toString('base64'), shifted.toString('base64url')]) {
      const inner = b64.slice(from, to);
      if (inner.length >= MIN_FRAGMENT_CHARS) forms.add(inner);
    }
  }
  forms.add(raw.toString('base64'));
  return [...forms].filter((f) => f.length >= MIN_SECRET_CHARS);
}

export class Redactor {
  private readonly forms = new Map<string, number>();
  private sorted: string[] = [];

  /** Registers a secret value (ignored when shorter than MIN_SECRET_CHARS). */
  add(value: string): void {
    if (value.length < MIN_SECRET_CHARS) return;
    let changed = false;
    for (const f of secretForms(value)) {
      if (!this.forms.has(f)) changed = true;
      this.forms.set(f, (this.forms.get(f) ?? 0) + 1);
    }
    // Longest first, so a value is replaced whole before a shorter form inside it.
    if (changed) this.sorted = [...this.forms.keys()].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.sorted.length;
  }

  /** The longest form: how much a stream must hold back to catch a value split across chunks. */
  get longest(): number {
    return this.sorted[0]?.length ?? 0;
  }

  redact(text: string): string {
    let out = text;
    for (const f of this.sorted) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  }

  /** Every registered raw form (for the sanitizer's exfiltration check). */
  values(): Iterable<string> {
    return this.sorted;
  }
}

/** The process's redactor: the logger, error output, task output and the vault share it. */
export const processSecrets = new Redactor();

/**
 * Redacts a byte stream chunk by chunk: it holds back the last few characters of each chunk (a value
 * may be split across two), and releases them with the next chunk or at the end.
 */
export class StreamRedactor {
  private readonly decoder = new StringDecoder('utf8');
  private held = '';

  constructor(private readonly redactor: Redactor = processSecrets) {}

  push(chunk: Buffer): string {
    const text = this.redactor.redact(this.held + this.decoder.write(chunk));
    const keep = Math.max(0, this.redactor.longest - 1);
    const cut = Math.max(0, text.length - keep);
    this.held = text.slice(cut);
    return text.slice(0, cut);
  }

  end(): string {
    const rest = this.redactor.redact(this.held + this.decoder.end());
    this.held = '';
    return rest;
  }
}
