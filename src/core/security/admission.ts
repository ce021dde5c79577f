import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

import {readSecretFile, writeSecretFile} from '../config/secure-file.js';
import {UsageError} from '../errors.js';
import {PUBLIC_KEY_BYTES} from './identity.js';

/**
 * Who may join: the cluster join secret (mixed into the Noise handshake as its PSK, so a peer without
 * it cannot complete the handshake) and/or a trust list of identity public keys.
 */
export interface AdmissionPolicy {
  /** 32-byte Noise PSK derived from the join secret; 32 zero bytes when only a trust list admits. */
  readonly psk: Buffer;
  readonly hasJoinSecret: boolean;
  /** Raw Ed25519 public keys (hex) allowed in; undefined = anyone holding the join secret. */
  readonly trusted?: ReadonlySet<string>;
}

const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 4096;

/** Turns the secret file's bytes (surrounding whitespace ignored) into the PSK with HKDF-SHA256. */
export function pskFromJoinSecret(secret: Buffer): Buffer {
  const trimmed = Buffer.from(secret.toString('utf8').trim(), 'utf8');
  if (trimmed.length < MIN_SECRET_BYTES || trimmed.length > MAX_SECRET_BYTES) {
    throw new UsageError(`join secret must be ${MIN_SECRET_BYTES}..${MAX_SECRET_BYTES} bytes; create one with: swarm node init`);
  }
  return Buffer.from(crypto.hkdfSync('sha256', trimmed, 'swarm/join-secret/v1', 'noise-psk', 32));
}

/** Creates a new random join secret file (0600). Refuses to overwrite unless `force`. */
export function createJoinSecretFile(file: string, force = false): void {
  if (fs.existsSync(file) && !force) throw new UsageError(`${file} exists; pass --force to replace it`);
  writeSecretFile(file, crypto.randomBytes(32).toString('base64url') + '\n');
}

/**
 * Reads a trust list: one key per line (hex or base64 of the raw 32-byte Ed25519 public key, as
 * `swarm node status` prints it); `#` starts a comment. A bad line is a usage error naming its number.
 */
export function readTrustList(file: string): Set<string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`--trust-file: cannot read ${file}`);
  }
  const keys = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const key = /^[0-9a-f]{64}$/i.test(line) ? Buffer.from(line, 'hex') : Buffer.from(line, 'base64');
    if (key.length !== PUBLIC_KEY_BYTES) throw new UsageError(`--trust-file: line ${i + 1} of ${file} is not a 32-byte public key`);
    keys.add(key.toString('hex'));
  });
  return keys;
}

export function buildAdmission(opts: {joinSecretFile?: string; trustFile?: string}): AdmissionPolicy {
  if (!opts.joinSecretFile && !opts.trustFile) {
    throw new UsageError('no admission configured: pass --join-secret-file (create one with: swarm node init) or --trust-file');
  }
  const psk = opts.joinSecretFile
    ? pskFromJoinSecret(readSecretFile(opts.joinSecretFile, '--join-secret-file'))
    : Buffer.alloc(32);
  const trusted = opts.trustFile ? readTrustList(opts.trustFile) : undefined;
  return {psk, hasJoinSecret: Boolean(opts.joinSecretFile), ...(trusted ? {trusted} : {})};
}

export function isAdmitted(policy: AdmissionPolicy, remoteIdentityKey: Buffer): boolean {
  return policy.trusted === undefined || policy.trusted.has(remoteIdentityKey.toString('hex'));
}
