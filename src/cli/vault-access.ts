import * as fs from 'node:fs';
import * as path from 'node:path';

import {Flags} from '@oclif/core';

import {attach} from '../core/client/attach.js';
import type {NodeClient} from '../core/client/attach.js';
import {parseDurationMs} from '../core/config/duration.js';
import {dataFile} from '../core/config/data-dir.js';
import {UnreachableError, UsageError} from '../core/errors.js';
import {processSecrets} from '../core/log/redactor.js';
import {VaultService} from '../core/vault/vault-service.js';
import type {VaultStatus} from '../core/vault/vault-service.js';
import {FileVaultStore} from '../core/vault/vault-store.js';
import type {EntryInfo} from '../core/vault/vault.js';
import {passphrase} from './secret-input.js';

/**
 * The vault a command works on. With a node running (this data dir's control socket, or --endpoint)
 * it is the node's: ciphertexts in the replicated store, keys in that node's memory while unlocked.
 * Without one it is the file in the data dir, unlocked for the one command with the passphrase.
 */
export interface VaultAccess {
  readonly mode: 'node' | 'local';
  status(): Promise<VaultStatus>;
  init(pass: string, opts: {hint?: string; kdfN?: number}): Promise<VaultStatus>;
  unlock(pass: string, timeoutMs?: number): Promise<VaultStatus>;
  lock(): Promise<VaultStatus>;
  list(): Promise<EntryInfo[]>;
  get(name: string): Promise<string>;
  set(name: string, value: string): Promise<EntryInfo>;
  rm(name: string): Promise<{name: string; removed: true}>;
  rotate(): Promise<VaultStatus>;
  close(): Promise<void>;
}

export const vaultFlags = {
  'passphrase-file': Flags.file({summary: 'File (0600) holding the vault passphrase; default: a hidden prompt on a terminal.', env: 'SWARM_VAULT_PASSPHRASE_FILE'}),
};

function nodeVault(c: NodeClient): VaultAccess {
  return {
    mode: 'node',
    status: () => c.call('vault.status', null),
    init: (p, o) => c.call('vault.init', {passphrase: p, ...o}, {timeoutMs: 60_000}),
    unlock: (p, timeoutMs) => c.call('vault.unlock', {passphrase: p, ...(timeoutMs ? {timeoutMs} : {})}, {timeoutMs: 60_000}),
    lock: () => c.call('vault.lock', null),
    list: () => c.call('vault.list', null),
    get: async (name) => {
      const {value} = await c.call('vault.get', {name});
      processSecrets.add(value);
      return value;
    },
    set: (name, value) => c.call('vault.set', {name, value}),
    rm: (name) => c.call('vault.rm', {name}),
    rotate: () => c.call('vault.rotate', null),
    close: () => c.close(),
  };
}

function localVault(dataDir: string, passphraseFile: string | undefined): VaultAccess {
  const file = dataFile(dataDir, 'vault');
  if (!fs.existsSync(file) && fs.existsSync(`${file}.imported`)) {
    throw new UnreachableError(`this vault moved into the cluster; start the node (swarm node start --data-dir ${dataDir}) to use it`);
  }
  const service = new VaultService(new FileVaultStore(file));
  const open = async (): Promise<VaultService> => {
    if (!service.isUnlocked) await service.unlock(await passphrase(passphraseFile));
    return service;
  };
  const noNode = (what: string): never => {
    throw new UsageError(`${what} needs a running node (it holds the key in memory); without one, every command asks for the passphrase`);
  };
  return {
    mode: 'local',
    status: () => service.status(),
    init: (p, o) => {
      fs.mkdirSync(path.dirname(file), {recursive: true, mode: 0o700});
      return service.init(p, o);
    },
    unlock: () => noNode('vault unlock'),
    lock: () => noNode('vault lock'),
    list: () => service.list(),
    get: async (name) => (await open()).get(name),
    set: async (name, value) => (await open()).set(name, value),
    rm: async (name) => (await open()).remove(name),
    rotate: async () => (await open()).rotate(),
    close: async () => service.lock(),
  };
}

/** The node's vault when a node answers, else the local file. */
export async function openVault(flags: {endpoint?: string; 'join-secret-file'?: string; timeout: string; 'passphrase-file'?: string}, dataDir: string): Promise<VaultAccess> {
  const timeoutMs = parseDurationMs(flags.timeout, '--timeout');
  if (!flags.endpoint && !fs.existsSync(dataFile(dataDir, 'controlSocket'))) return localVault(dataDir, flags['passphrase-file']);
  try {
    const c = await attach({dataDir, timeoutMs, ...(flags.endpoint ? {endpoint: flags.endpoint} : {}), ...(flags['join-secret-file'] ? {joinSecretFile: flags['join-secret-file']} : {})});
    return nodeVault(c);
  } catch (err) {
    // A stale socket from a crashed node: the file vault is the one in use.
    if (!flags.endpoint && err instanceof UnreachableError) return localVault(dataDir, flags['passphrase-file']);
    throw err;
  }
}

/** Runs `fn` on the vault and always closes it. */
export async function withVault<T>(flags: Parameters<typeof openVault>[0], dataDir: string, fn: (v: VaultAccess) => Promise<T>): Promise<T> {
  const v = await openVault(flags, dataDir);
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}
