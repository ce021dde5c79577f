import {entropy, isPlaceholder} from './placeholder.js';
import type {Span} from './types.js';

/**
 * Credential formats: cloud keys, provider tokens, private key blocks, JWTs, connection strings and
 * basic-auth, plus a generic `password = …` assignment with an entropy check. Every pattern starts at
 * a literal or a word boundary of a fixed prefix, so none can backtrack over a long run.
 */

export interface CredentialHit {
  rule: string;
  /** Span of the secret part only (what gets redacted). */
  span: Span;
  label: string;
  /** A documentation example or placeholder: reported as info, not redacted. */
  example: boolean;
}

interface Pattern {
  rule: string;
  label: string;
  re: RegExp;
  /** Capture group holding the secret (default: whole match). */
  group?: number;
  /** Known prefix stripped before the placeholder check. */
  prefix?: (v: string) => string;
  validate?: (value: string, m: RegExpExecArray, text: string) => boolean;
}

const b64json = (s: string): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

const decodesToPair = (v: string): boolean => /^[^:\s]{1,128}:\S{1,256}$/.test(Buffer.from(v, 'base64').toString('utf8'));

const PATTERNS: Pattern[] = [
  {rule: 'credential.aws-access-key', label: 'AWS access key id', re: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, prefix: (v) => v.slice(4),
    // inside a presigned URL the key id is public by design
    validate: (_v, m, text) => !/X-Amz-Credential=$/i.test(text.slice(Math.max(0, m.index - 17), m.index))},
  {rule: 'credential.aws-secret-key', label: 'AWS secret access key', re: /\b(?:aws_?)?secret_?access_?key["']?\s{0,5}[:=]\s{0,5}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi, group: 1},
  {rule: 'credential.github-token', label: 'GitHub token', re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g, prefix: (v) => v.replace(/^(?:gh[pousr]_|github_pat_)/, '')},
  {rule: 'credential.gitlab-token', label: 'GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}/g, prefix: (v) => v.slice(6)},
  {rule: 'credential.slack-token', label: 'Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, prefix: (v) => v.slice(5)},
  {rule: 'credential.slack-webhook', label: 'Slack webhook URL', re: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{16,}/g},
  {rule: 'credential.stripe-key', label: 'Stripe secret key', re: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g, prefix: (v) => v.slice(8)},
  {rule: 'credential.anthropic-key', label: 'Anthropic API key', re: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, prefix: (v) => v.slice(7)},
  {rule: 'credential.openai-key', label: 'OpenAI API key', re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, prefix: (v) => v.replace(/^sk-(?:proj-|svcacct-|admin-)?/, ''), validate: (v) => !v.startsWith('sk-ant-') && /\d/.test(v) && /[A-Z]/.test(v)},
  {rule: 'credential.google-api-key', label: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, prefix: (v) => v.slice(4)},
  {rule: 'credential.npm-token', label: 'npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/g, prefix: (v) => v.slice(4)},
  {rule: 'credential.pypi-token', label: 'PyPI token', re: /\bpypi-AgE[A-Za-z0-9_-]{50,}/g},
  {rule: 'credential.huggingface-token', label: 'Hugging Face token', re: /\bhf_[A-Za-z0-9]{30,}\b/g, prefix: (v) => v.slice(3)},
  {rule: 'credential.sendgrid-key', label: 'SendGrid key', re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g},
  {rule: 'credential.telegram-token', label: 'Telegram bot token', re: /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/g},
  {rule: 'credential.digitalocean-token', label: 'DigitalOcean token', re: /\bdo[por]_v1_[a-f0-9]{64}\b/g},
  {rule: 'credential.vault-token', label: 'HashiCorp Vault token', re: /\bhv[sbr]\.[A-Za-z0-9_-]{24,}/g},
  {rule: 'credential.shopify-token', label: 'Shopify token', re: /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/g},
  {rule: 'credential.databricks-token', label: 'Databricks token', re: /\bdapi[a-f0-9]{32}(?:-\d)?\b/g},
  {rule: 'credential.grafana-token', label: 'Grafana service-account token', re: /\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b/g},
  {rule: 'credential.postman-key', label: 'Postman API key', re: /\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b/g},
  {rule: 'credential.age-key', label: 'age secret key', re: /\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b/g},
  {rule: 'credential.supabase-token', label: 'Supabase token', re: /\bsbp_[a-f0-9]{40}\b/g},
  {rule: 'credential.linear-key', label: 'Linear API key', re: /\blin_api_[A-Za-z0-9]{40}\b/g},
  {rule: 'credential.square-token', label: 'Square token', re: /\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,}/g},
  {rule: 'credential.azure-sas', label: 'Azure shared-access signature', re: /[?&]sig=([A-Za-z0-9%+/=]{20,})/g, group: 1,
    validate: (_v, m, text) => /[?&]sv=\d{4}-\d{2}-\d{2}/.test(text.slice(Math.max(0, m.index - 600), m.index + 600))},
  {rule: 'credential.azure-storage-key', label: 'Azure storage account key', re: /\bAccountKey=([A-Za-z0-9+/=]{40,})/g, group: 1},
  {rule: 'credential.jwt', label: 'JSON Web Token', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}/g, validate: (v) => typeof b64json(v.split('.')[0]!)?.['alg'] === 'string'},
  {rule: 'credential.basic-auth', label: 'HTTP basic-auth credentials', re: /\bAuthorization:\s{0,5}Basic\s{1,5}([A-Za-z0-9+/]{8,}={0,2})/gi, group: 1, validate: decodesToPair},
  {rule: 'credential.bearer-token', label: 'bearer token', re: /\bAuthorization:\s{0,5}Bearer\s{1,5}([A-Za-z0-9._~+/-]{20,}=*)/gi, group: 1, validate: (v) => entropy(v) >= 3.5},
  {rule: 'credential.docker-auth', label: 'registry auth (user:password)', re: /"auth"\s{0,5}:\s{0,5}"([A-Za-z0-9+/]{8,}={0,2})"/g, group: 1, validate: decodesToPair},
  {rule: 'credential.npm-auth', label: 'registry auth token', re: /(?:_authToken|_auth|_password)\s{0,5}=\s{0,5}([^\s"'$]{16,})/g, group: 1},
  {rule: 'credential.connection-string', label: 'password in a connection URL', re: /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|ftps?|sftp|smtps?|ldaps?|https?|jdbc:[a-z]+):\/\/([^\s:/@'"]{0,128}):([^\s@/'"]{1,256})@[^\s/'"?#]/gi, group: 2,
    validate: (v, m) => v !== m[1] && !isPlaceholder(decodeURIComponentSafe(v))},
];

function decodeURIComponentSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Key names whose values are credentials; names ending in a non-secret attribute (password_min_length) are not. */
const SECRET_KEY = /(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|client[_-]?secret|private[_-]?key|signing[_-]?key)/gi;
const NOT_SECRET_SUFFIX = /^[_.-]?(?:name|names|count|len|length|size|min|max|min[_-]?\w+|max[_-]?\w+|file|path|dir|url|uri|id|ids|type|ttl|expiry|expires|expires[_-]?at|enabled|header|field|prefix|format|policy|hash|version|limit|usage)\b/i;
const ASSIGN = /([A-Za-z0-9_.-]{0,30})["']?\s{0,5}[:=]\s{0,5}["']?([^\s"'`,;]{8,200})/y;

function genericAssignments(text: string, out: CredentialHit[]): void {
  SECRET_KEY.lastIndex = 0;
  for (let m = SECRET_KEY.exec(text); m; m = SECRET_KEY.exec(text)) {
    const keyEnd = m.index + m[0].length;
    ASSIGN.lastIndex = keyEnd;
    const a = ASSIGN.exec(text);
    if (!a) continue;
    if (NOT_SECRET_SUFFIX.test(a[1]!)) continue;
    const value = a[2]!;
    const start = a.index + a[0].length - value.length;
    if (/[[\](){}$<]|^(?:true|false|null|none|nil|undefined)$|^\d+$|^[a-z]+(?:[-_.][a-z]+)*$|^https?:|^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$/i.test(value)) continue; // code, references, words, numbers, URLs
    const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
    if (classes < 2 || entropy(value) < 3) continue;
    out.push({rule: 'credential.assignment', span: {start, end: start + value.length}, label: `value of a secret-named field`, example: isPlaceholder(value)});
    SECRET_KEY.lastIndex = start + value.length;
  }
}

/** Private key blocks: BEGIN … END with key material between (a header alone, as in docs, is not a key). */
function privateKeys(text: string, out: CredentialHit[]): void {
  const re = /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const bodyStart = m.index + m[0].length;
    const endMarker = `-----END ${m[1]}-----`;
    const endAt = text.indexOf(endMarker, bodyStart);
    const stop = endAt >= 0 && endAt - bodyStart <= 64 * 1024 ? endAt : Math.min(text.length, bodyStart + 64 * 1024);
    const body = text.slice(bodyStart, stop);
    const material = (body.match(/[A-Za-z0-9+/=]/g) ?? []).length;
    if (material < 40) continue;
    const end = endAt >= 0 && endAt === stop ? endAt + endMarker.length : bodyStart + body.trimEnd().length;
    out.push({rule: 'credential.private-key', span: {start: m.index, end}, label: `${m[1]!.toLowerCase()} block`, example: /EXAMPLE/.test(body)});
    re.lastIndex = end;
  }
}

export function findCredentials(text: string): CredentialHit[] {
  const out: CredentialHit[] = [];
  privateKeys(text, out);
  for (const p of PATTERNS) {
    p.re.lastIndex = 0;
    for (let m = p.re.exec(text); m; m = p.re.exec(text)) {
      const value = p.group ? m[p.group]! : m[0];
      const start = p.group ? m.index + m[0].lastIndexOf(value) : m.index;
      if (p.validate && !p.validate(value, m, text)) continue;
      const stripped = p.prefix ? p.prefix(value) : value;
      out.push({rule: p.rule, span: {start, end: start + value.length}, label: p.label, example: isPlaceholder(stripped)});
    }
  }
  genericAssignments(text, out);
  return dedupe(out);
}

/** Overlapping hits: keep the specific format over the generic assignment, and the longer span. */
function dedupe(hits: CredentialHit[]): CredentialHit[] {
  hits.sort((a, b) => a.span.start - b.span.start || b.span.end - a.span.end);
  const out: CredentialHit[] = [];
  for (const h of hits) {
    const prev = out[out.length - 1];
    if (prev && h.span.start < prev.span.end) {
      if (prev.rule === 'credential.assignment' && h.rule !== 'credential.assignment') out[out.length - 1] = {...h, span: {start: Math.min(prev.span.start, h.span.start), end: Math.max(prev.span.end, h.span.end)}};
      else if (h.span.end > prev.span.end) out[out.length - 1] = {...prev, span: {start: prev.span.start, end: h.span.end}};
      continue;
    }
    out.push(h);
  }
  return out;
}
