/**
 * Public types of the sanitizer. Offsets are UTF-16 code-unit indices into the string that was
 * scanned (for JSON input: the string at `path`), end exclusive, so `text.slice(start, end)` is the match.
 */
export type Direction = 'input' | 'output';
/** `limit`: the input exceeded a structural limit (JSON nesting) and is blocked unscanned: fail closed. */
export type Category = 'injection' | 'exfiltration' | 'credential' | 'secret' | 'hidden_unicode' | 'limit';
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
/** What one finding asks for; the verdict is the strongest action among the findings. */
export type Action = 'allow' | 'redact' | 'block';
export type Verdict = Action;

export interface Span {
  start: number;
  end: number;
}

export interface Finding {
  rule: string;
  category: Category;
  severity: Severity;
  action: Action;
  /** Why, in words. Never contains the matched secret or credential; the span points at it. */
  reason: string;
  span: Span;
  /** For JSON input: path of the string the span is in (`$.a[0].b`, `$["odd key"]`); a key's own text is `<path> (key)`. */
  path?: string;
  /** Set when the match was inside an encoded blob: the chain of decodings, e.g. `base64` or `base64>url`. */
  via?: string;
}

/** The vault's unlocked values. `nameOf` (optional) labels redactions; otherwise a short hash does. */
export interface SecretSource {
  values(): Iterable<string>;
  nameOf?(value: string): string | undefined;
}

export interface SanitizerPolicy {
  /** Host suffixes treated as inside the cluster, on top of loopback, private ranges, *.local, *.internal, single-label names. */
  internalHosts: readonly string[];
  /** How deep encoded blobs are decoded (base64 inside hex inside …). */
  maxDecodeDepth: number;
  /** Bytes decoded per blob, and in total per call: beyond this, blobs are left undecoded (the rest is still scanned). */
  maxBlobBytes: number;
  maxDecodedBytes: number;
  /** Decoded blobs scanned per call (each is a full scan of its text). */
  maxBlobs: number;
  /** Score at which an injection or exfiltration intent cluster blocks. */
  blockScore: number;
  /** Vault values shorter than this are not matched (too many false hits). */
  minSecretLength: number;
  /** Nesting depth of JSON input beyond which the input is blocked unscanned (fail closed). */
  maxJsonDepth: number;
}

export interface SanitizeOptions {
  direction: Direction;
  secrets?: SecretSource;
  policy?: Partial<SanitizerPolicy>;
}

export interface SanitizeStats {
  /** Code units scanned across all strings (JSON keys and values included). */
  scanned: number;
  blobsDecoded: number;
  /** True when some blob was not decoded because a decode limit was reached. */
  decodeLimited: boolean;
}

export interface SanitizeResult {
  verdict: Verdict;
  direction: Direction;
  findings: Finding[];
  /** The input with redact findings replaced (`[REDACTED:…]`) and hidden characters removed; only when verdict is `redact`. */
  redacted?: string | unknown;
  stats: SanitizeStats;
}
