import {UsageError} from '../errors.js';
import type {KdfParams, Sealed} from './vault-crypto.js';
import {MIN_SCRYPT_N} from './vault-crypto.js';

/**
 * The vault as stored (a file, or one key in the replicated store): everything in it is either
 * public metadata (names, versions, dates, KDF parameters, the hint) or ciphertext. One document, so
 * a rotate that re-seals every entry lands in one atomic write.
 */
export const VAULT_FORMAT = 'swarm-vault/1';

export interface VaultEntry {
  version: number;
  created: string;
  updated: string;
  sealed: Sealed;
}

export interface VaultDocument {
  format: typeof VAULT_FORMAT;
  kdf: KdfParams;
  /** Data key generation: +1 on every rotate (part of every entry's associated data). */
  generation: number;
  /** The data key, sealed with the passphrase's key. */
  wrapped: Sealed;
  /** A recovery hint the operator chose (plaintext; never the passphrase). */
  hint?: string;
  entries: Record<string, VaultEntry>;
  /** Last version of removed names, so a removed entry's old ciphertext can never come back. */
  tombstones: Record<string, number>;
  /** HMAC over the index: a swapped, dropped or rolled-back entry is detected at unlock. */
  index: string;
  /** +1 on every save. */
  revision: number;
}

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
export const MAX_VALUE_BYTES = 64 * 1024;

export function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new UsageError(`vault entry name ${JSON.stringify(name.slice(0, 40))}: use letters, digits, . _ / - (at most 128)`);
}

export const wrapAad = (generation: number): string => `${VAULT_FORMAT} key g${generation}`;
export const entryAad = (name: string, version: number, generation: number): string => `${VAULT_FORMAT} entry ${name} v${version} g${generation}`;

/** The exact text the index MAC covers (sorted, so it does not depend on key order in JSON). */
export function indexText(d: Pick<VaultDocument, 'generation' | 'entries' | 'tombstones' | 'hint' | 'kdf'>): string {
  const entries = Object.keys(d.entries)
    .sort()
    .map((n) => `${n}\u0000${d.entries[n]!.version}\u0000${d.entries[n]!.sealed.nonce}`);
  const tomb = Object.keys(d.tombstones)
    .sort()
    .map((n) => `${n}\u0000${d.tombstones[n]}`);
  return JSON.stringify([VAULT_FORMAT, d.generation, d.kdf, d.hint ?? null, entries, tomb]);
}

const isSealed = (s: unknown): s is Sealed => !!s && typeof s === 'object' && ['nonce', 'ct', 'tag'].every((k) => typeof (s as Record<string, unknown>)[k] === 'string');

/** Parses a stored document; a malformed one is refused with what is wrong (never its content). */
export function parseVault(text: string, where: string): VaultDocument {
  let d: VaultDocument;
  try {
    d = JSON.parse(text) as VaultDocument;
  } catch {
    throw new UsageError(`${where} is not a vault (not JSON)`);
  }
  const bad = (what: string): never => {
    throw new UsageError(`${where} is not a valid vault: ${what}`);
  };
  if (d?.format !== VAULT_FORMAT) bad(`format is not ${VAULT_FORMAT}`);
  const k = d.kdf;
  if (k?.alg !== 'scrypt' || !Number.isSafeInteger(k.N) || k.N < MIN_SCRYPT_N || !Number.isSafeInteger(k.r) || !Number.isSafeInteger(k.p) || typeof k.salt !== 'string') bad('kdf');
  if (!Number.isSafeInteger(d.generation) || !isSealed(d.wrapped) || typeof d.index !== 'string' || !Number.isSafeInteger(d.revision)) bad('header');
  if (!d.entries || typeof d.entries !== 'object' || !d.tombstones || typeof d.tombstones !== 'object') bad('entries');
  for (const [n, e] of Object.entries(d.entries)) if (!NAME_RE.test(n) || !Number.isSafeInteger(e?.version) || !isSealed(e.sealed)) bad(`entry ${n.slice(0, 40)}`);
  return d;
}
