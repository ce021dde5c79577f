import * as fs from 'node:fs';
import * as path from 'node:path';

import {ConflictError, NotFoundError} from '../errors.js';
import {runTransaction, StateTransaction} from '../storage/index.js';
import type {ReplicatedKv} from '../fleet/task-store.js';
import {parseVault} from './vault-document.js';
import type {VaultDocument} from './vault-document.js';

/**
 * Where the vault document lives: a file (one node, or before the cluster has Raft) or one key of the
 * replicated store (every member holds the ciphertext; only an unlocked node can read it). Both
 * write the whole document atomically and refuse a write based on a stale read.
 */
export interface VaultStore {
  /** For messages: the file path, or "the cluster". */
  readonly where: string;
  load(): Promise<VaultDocument | undefined>;
  /** Writes `next`, whose revision must be the stored one + 1 (or 0 when creating). */
  save(next: VaultDocument): Promise<void>;
}

export class FileVaultStore implements VaultStore {
  constructor(readonly where: string) {}

  async load(): Promise<VaultDocument | undefined> {
    // A save a crash interrupted is finished or undone first.
    if (fs.existsSync(path.dirname(this.where))) StateTransaction.recover(path.dirname(this.where));
    let text: string;
    try {
      text = fs.readFileSync(this.where, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return parseVault(text, this.where);
  }

  async save(next: VaultDocument): Promise<void> {
    const cur = await this.load();
    if ((cur?.revision ?? -1) !== next.revision - 1 && !(cur === undefined && next.revision === 0)) throw new ConflictError(`${this.where} changed meanwhile; retry`);
    // One transaction: a crash at any step leaves the old vault or the new one, whole.
    runTransaction(path.dirname(this.where), (tx) => tx.write(path.basename(this.where), JSON.stringify(next, null, 1) + '\n', {mode: 0o600}));
  }
}

export const VAULT_NAMESPACE = 'vault';
const VAULT_KEY = 'doc';

export class KvVaultStore implements VaultStore {
  readonly where = 'the cluster (replicated store)';
  private version = 0;

  constructor(private readonly kv: ReplicatedKv) {}

  async load(): Promise<VaultDocument | undefined> {
    const rec = await this.kv.get(VAULT_NAMESPACE, VAULT_KEY).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err; // no quorum is not "no vault"
    });
    this.version = rec?.version ?? 0;
    return rec ? parseVault(rec.value, this.where) : undefined;
  }

  async save(next: VaultDocument): Promise<void> {
    const cur = await this.load();
    if ((cur?.revision ?? -1) !== next.revision - 1 && !(cur === undefined && next.revision === 0)) throw new ConflictError('the vault changed meanwhile; retry');
    const r = await this.kv.propose({op: 'put', namespace: VAULT_NAMESPACE, key: VAULT_KEY, value: JSON.stringify(next), ifVersion: this.version});
    if (!r.ok) throw new ConflictError('the vault changed meanwhile; retry');
  }
}
