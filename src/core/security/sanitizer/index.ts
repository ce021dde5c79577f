import {DecodeBudget} from './decode.js';
import {HostMatcher} from './hosts.js';
import {scanJson} from './json-walk.js';
import {resolvePolicy} from './policy.js';
import {scanText} from './scan.js';
import type {ScanEnv} from './scan.js';
import {SecretMatcher} from './secrets.js';
import type {SanitizeOptions, SanitizeResult} from './types.js';
import {dedupeFindings, publicFinding, redactText, verdictOf} from './verdict.js';

export type * from './types.js';
export {DEFAULT_POLICY} from './policy.js';

/**
 * Screen text or a JSON value going into or coming out of a tool. Pure: no I/O, no clock.
 * allow: nothing to do · redact: use `redacted` instead of the input · block: do not pass it on.
 * See README.md in this directory for every rule and the verdict policy.
 */
export function sanitize(input: unknown, opts: SanitizeOptions): SanitizeResult {
  const policy = resolvePolicy(opts.policy);
  const budget = new DecodeBudget(policy.maxBlobBytes, policy.maxDecodedBytes, policy.maxBlobs);
  const env: ScanEnv = {policy, hosts: new HostMatcher(policy.internalHosts), secrets: new SecretMatcher(opts.secrets, policy.minSecretLength), budget};
  let raw;
  let redacted: unknown;
  let scanned: number;
  if (typeof input === 'string') {
    const r = scanText(input, env);
    raw = dedupeFindings(r.findings);
    scanned = input.length;
    if (verdictOf(raw) === 'redact') redacted = redactText(input, raw, r.strip);
  } else {
    const r = scanJson(input, env);
    raw = dedupeFindings(r.findings);
    scanned = r.scanned;
    redacted = r.redacted;
  }
  const verdict = verdictOf(raw);
  return {
    verdict,
    direction: opts.direction,
    findings: raw.map(publicFinding),
    ...(verdict === 'redact' ? {redacted} : {}),
    stats: {scanned, blobsDecoded: budget.blobs, decodeLimited: budget.limited},
  };
}
