import {ConflictError, NotFoundError, RefusedError, UsageError} from '../errors.js';
import {faultPoint} from '../config/fault.js';
import {deriveKek, indexKey, mac, macEquals, newDataKey, newKdfParams, open, seal} from './vault-crypto.js';
import type {KdfParams} from './vault-crypto.js';
import {MAX_VALUE_BYTES, VAULT_FORMAT, checkName, entryAad, indexText, wrapAad} from './vault-document.js';
import type {VaultDocument} from './vault-document.js';

/**
 * The vault's operations on a document. Pure apart from the KDF and randomness: every change returns
 * a new document for the caller's store to write atomically. The keys live in an Unlocked value that
 * the caller keeps only while the vault is unlocked.
 */
export interface Unlocked {
  /** The passphrase's key: kept while unlocked so a rotate can wrap the new data key. */
  kek: Buffer;
  dataKey: Buffer;
}

export interface EntryInfo {
  name: string;
  version: number;
  created: string;
  updated: string;
}

export class VaultIntegrityError extends RefusedError {
  readonly integrity = true;
}

function withIndex(d: Omit<VaultDocument, 'index'>, dataKey: Buffer): VaultDocument {
  return {...d, index: mac(indexKey(dataKey), indexText(d))};
}

export async function createVault(passphrase: string, opts: {hint?: string; kdf?: Partial<Pick<KdfParams, 'N' | 'r' | 'p'>>} = {}): Promise<{doc: VaultDocument; keys: Unlocked}> {
  checkPassphrase(passphrase);
  const kdf = newKdfParams(opts.kdf);
  const kek = await deriveKek(passphrase, kdf);
  const dataKey = newDataKey();
  const doc = withIndex(
    {format: VAULT_FORMAT, kdf, generation: 1, wrapped: seal(kek, dataKey, wrapAad(1)), ...(opts.hint ? {hint: opts.hint} : {}), entries: {}, tombstones: {}, revision: 0},
    dataKey,
  );
  return {doc, keys: {kek, dataKey}};
}

export function checkPassphrase(p: string): void {
  if (p.length < 8) throw new UsageError('the passphrase must have at least 8 characters');
}

/** Opens the data key and checks the whole vault; a wrong passphrase is exit 5 and changes nothing. */
export async function unlock(doc: VaultDocument, passphrase: string): Promise<Unlocked> {
  const kek = await deriveKek(passphrase, doc.kdf);
  const dataKey = open(kek, doc.wrapped, wrapAad(doc.generation));
  if (!dataKey) throw new RefusedError(`wrong passphrase (or the vault header was altered); nothing was changed${doc.hint ? `. Your hint: ${doc.hint}` : ''}`);
  verify(doc, dataKey);
  return {kek, dataKey};
}

/** Every entry opens under its own name and version, and the index is the one this key signed. */
export function verify(doc: VaultDocument, dataKey: Buffer): void {
  if (!macEquals(doc.index, mac(indexKey(dataKey), indexText(doc)))) throw new VaultIntegrityError('vault index does not verify: entries were swapped, removed or rolled back');
  for (const [name, e] of Object.entries(doc.entries)) {
    if (!open(dataKey, e.sealed, entryAad(name, e.version, doc.generation))) throw new VaultIntegrityError(`vault entry ${name} does not verify: it was tampered with or moved`);
  }
}

export function list(doc: VaultDocument): EntryInfo[] {
  return Object.entries(doc.entries)
    .map(([name, e]) => ({name, version: e.version, created: e.created, updated: e.updated}))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function get(doc: VaultDocument, keys: Unlocked, name: string): string {
  checkName(name);
  const e = doc.entries[name];
  if (!e) throw new NotFoundError(`no vault entry ${name}; see swarm vault list`);
  const plain = open(keys.dataKey, e.sealed, entryAad(name, e.version, doc.generation));
  if (!plain) throw new VaultIntegrityError(`vault entry ${name} does not verify: it was tampered with or moved`);
  return plain.toString('utf8');
}

export function set(doc: VaultDocument, keys: Unlocked, name: string, value: string, now: Date): VaultDocument {
  checkName(name);
  if (value.length === 0) throw new UsageError('refusing to store an empty value');
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw new UsageError(`value over ${MAX_VALUE_BYTES} bytes`);
  const cur = doc.entries[name];
  const version = (cur?.version ?? doc.tombstones[name] ?? 0) + 1;
  const at = now.toISOString();
  const tombstones = {...doc.tombstones};
  delete tombstones[name];
  const {index: _old, ...rest} = doc;
  return withIndex(
    {
      ...rest,
      tombstones,
      entries: {...doc.entries, [name]: {version, created: cur?.created ?? at, updated: at, sealed: seal(keys.dataKey, Buffer.from(value, 'utf8'), entryAad(name, version, doc.generation))}},
      revision: doc.revision + 1,
    },
    keys.dataKey,
  );
}

export function remove(doc: VaultDocument, keys: Unlocked, name: string): VaultDocument {
  checkName(name);
  const cur = doc.entries[name];
  if (!cur) throw new NotFoundError(`no vault entry ${name}; see swarm vault list`);
  const entries = {...doc.entries};
  delete entries[name];
  const {index: _old, ...rest} = doc;
  return withIndex({...rest, entries, tombstones: {...doc.tombstones, [name]: cur.version}, revision: doc.revision + 1}, keys.dataKey);
}

/** A new data key; every entry re-sealed under it. The caller writes the result in one atomic step. */
export function rotate(doc: VaultDocument, keys: Unlocked): {doc: VaultDocument; keys: Unlocked} {
  verify(doc, keys.dataKey);
  const dataKey = newDataKey();
  const generation = doc.generation + 1;
  const entries: VaultDocument['entries'] = {};
  const names = Object.keys(doc.entries);
  names.forEach((name, i) => {
    const e = doc.entries[name]!;
    const plain = open(keys.dataKey, e.sealed, entryAad(name, e.version, doc.generation));
    if (!plain) throw new VaultIntegrityError(`vault entry ${name} does not verify`);
    entries[name] = {...e, sealed: seal(dataKey, plain, entryAad(name, e.version, generation))};
    // Tests kill the process here, half-way through re-sealing: nothing has been written yet.
    if (i === Math.floor(names.length / 2)) faultPoint('vault:rotate-half');
  });
  const {index: _old, ...rest} = doc;
  const next = withIndex({...rest, generation, wrapped: seal(keys.kek, dataKey, wrapAad(generation)), entries, revision: doc.revision + 1}, dataKey);
  return {doc: next, keys: {kek: keys.kek, dataKey}};
}

export function assertSameVault(a: VaultDocument, b: VaultDocument): void {
  if (a.kdf.salt !== b.kdf.salt) throw new ConflictError('the vault was replaced meanwhile; retry');
}
