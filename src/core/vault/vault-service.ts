import {ConflictError, NotFoundError, RefusedError, UsageError} from '../errors.js';
import {processSecrets} from '../log/redactor.js';
import type {Redactor} from '../log/redactor.js';
import {open} from './vault-crypto.js';
import {wrapAad} from './vault-document.js';
import type {VaultDocument} from './vault-document.js';
import type {VaultStore} from './vault-store.js';
import * as V from './vault.js';
import type {EntryInfo, Unlocked} from './vault.js';

export interface VaultStatus {
  initialised: boolean;
  locked: boolean;
  /** Where the ciphertexts live. */
  where: string;
  entries: number;
  generation: number | null;
  kdf: {alg: string; N: number; r: number; p: number} | null;
  hint: string | null;
  /** ISO time the vault locks itself; null when unlocked without a timeout or locked. */
  locksAt: string | null;
}

/** `vault:NAME` in a task's env: the value comes from the vault of the node that runs it. */
export const VAULT_REF = /^vault:([A-Za-z0-9][A-Za-z0-9._/-]{0,127})$/;

/**
 * A vault in use: its store, and its keys while unlocked (in memory only, dropped on lock or timeout).
 * Every value it reads or writes is registered with the process's redactor first. Writes are
 * serialized: each is read, change, compare-and-write.
 */
export class VaultService {
  private keys?: Unlocked & {generation: number};
  private lockTimer?: NodeJS.Timeout;
  private locksAtMs?: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: VaultStore,
    private readonly deps: {clock: () => number; secrets?: Redactor} = {clock: Date.now},
  ) {}

  private get secrets(): Redactor {
    return this.deps.secrets ?? processSecrets;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  async status(): Promise<VaultStatus> {
    const doc = await this.store.load();
    return {
      initialised: doc !== undefined,
      locked: this.keys === undefined,
      where: this.store.where,
      entries: doc ? Object.keys(doc.entries).length : 0,
      generation: doc?.generation ?? null,
      kdf: doc ? {alg: doc.kdf.alg, N: doc.kdf.N, r: doc.kdf.r, p: doc.kdf.p} : null,
      hint: doc?.hint ?? null,
      locksAt: this.keys && this.locksAtMs ? new Date(this.locksAtMs).toISOString() : null,
    };
  }

  init(passphrase: string, opts: {hint?: string; kdfN?: number} = {}): Promise<VaultStatus> {
    return this.serial(async () => {
      if (await this.store.load()) throw new ConflictError(`a vault already exists in ${this.store.where}`);
      if (opts.kdfN !== undefined && (!Number.isSafeInteger(Math.log2(opts.kdfN)) || opts.kdfN < 2 ** 15 || opts.kdfN > 2 ** 22)) throw new UsageError('the scrypt cost N must be a power of two from 2^15 to 2^22');
      const {doc, keys} = await V.createVault(passphrase, {...(opts.hint ? {hint: opts.hint} : {}), ...(opts.kdfN ? {kdf: {N: opts.kdfN}} : {})});
      await this.store.save(doc);
      this.hold(keys, doc.generation, undefined);
      return this.status();
    });
  }

  async unlock(passphrase: string, timeoutMs?: number): Promise<VaultStatus> {
    const doc = await this.mustLoad();
    const keys = await V.unlock(doc, passphrase);
    for (const name of Object.keys(doc.entries)) this.secrets.add(V.get(doc, keys, name));
    this.hold(keys, doc.generation, timeoutMs);
    return this.status();
  }

  lock(): void {
    if (this.lockTimer) clearTimeout(this.lockTimer);
    this.lockTimer = undefined;
    this.locksAtMs = undefined;
    if (this.keys) {
      this.keys.dataKey.fill(0);
      this.keys.kek.fill(0);
    }
    this.keys = undefined;
  }

  get isUnlocked(): boolean {
    return this.keys !== undefined;
  }

  private hold(keys: Unlocked, generation: number, timeoutMs: number | undefined): void {
    this.lock();
    this.keys = {...keys, generation};
    if (timeoutMs !== undefined && timeoutMs > 0) {
      this.locksAtMs = this.deps.clock() + timeoutMs;
      this.lockTimer = setTimeout(() => this.lock(), timeoutMs);
      this.lockTimer.unref();
    }
  }

  private async mustLoad(): Promise<VaultDocument> {
    const doc = await this.store.load();
    if (!doc) throw new NotFoundError(`no vault in ${this.store.where}; run swarm vault init`);
    return doc;
  }

  /** The current document and keys for it (another node may have rotated: re-open with the KEK). */
  private async unlocked(): Promise<{doc: VaultDocument; keys: Unlocked}> {
    const doc = await this.mustLoad();
    if (!this.keys) throw new RefusedError('the vault is locked; run swarm vault unlock');
    if (this.keys.generation !== doc.generation) {
      const dataKey = open(this.keys.kek, doc.wrapped, wrapAad(doc.generation));
      if (!dataKey) throw new RefusedError('the vault was re-keyed with another passphrase; unlock it again');
      this.keys = {kek: this.keys.kek, dataKey, generation: doc.generation};
    }
    return {doc, keys: this.keys};
  }

  async list(): Promise<EntryInfo[]> {
    return V.list(await this.mustLoad());
  }

  async get(name: string): Promise<string> {
    const {doc, keys} = await this.unlocked();
    const value = V.get(doc, keys, name);
    this.secrets.add(value);
    return value;
  }

  set(name: string, value: string): Promise<EntryInfo> {
    // Known to the redactor before anything could log it.
    this.secrets.add(value);
    return this.serial(async () => {
      const {doc, keys} = await this.unlocked();
      V.verify(doc, keys.dataKey);
      const next = V.set(doc, keys, name, value, new Date(this.deps.clock()));
      await this.store.save(next);
      return V.list(next).find((e) => e.name === name)!;
    });
  }

  remove(name: string): Promise<{name: string; removed: true}> {
    return this.serial(async () => {
      const {doc, keys} = await this.unlocked();
      await this.store.save(V.remove(doc, keys, name));
      return {name, removed: true};
    });
  }

  rotate(): Promise<VaultStatus> {
    return this.serial(async () => {
      const {doc, keys} = await this.unlocked();
      const next = V.rotate(doc, keys);
      await this.store.save(next.doc);
      this.keys = {...next.keys, generation: next.doc.generation};
      return this.status();
    });
  }

  /** A task's env with `vault:NAME` values replaced by the secrets (refused while locked). */
  async resolveEnv(env: Record<string, string>): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      const m = VAULT_REF.exec(v);
      out[k] = m ? await this.get(m[1]!) : v;
    }
    return out;
  }
}
