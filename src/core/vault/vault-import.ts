import * as fs from 'node:fs';

import type {ReplicatedKv} from '../fleet/task-store.js';
import {parseVault} from './vault-document.js';
import {VAULT_NAMESPACE} from './vault-store.js';

/**
 * A vault made before the node had a cluster lives in a file; the first time the node serves the
 * vault with Raft running, it moves the ciphertexts into the replicated store (only if the cluster has
 * none: compare-and-swap on "absent"), and renames the file so it is never edited again by mistake.
 * Returns whether it imported.
 */
export async function importFileVault(kv: ReplicatedKv, file: string): Promise<boolean> {
  if (!fs.existsSync(file) || kv.kv.get(VAULT_NAMESPACE, 'doc')) return false;
  const text = fs.readFileSync(file, 'utf8');
  const doc = parseVault(text, file);
  const r = await kv.propose({op: 'put', namespace: VAULT_NAMESPACE, key: 'doc', value: JSON.stringify(doc), ifVersion: 0});
  // Either way the cluster has a vault now; this file is no longer the one in use.
  fs.renameSync(file, `${file}.imported`);
  return r.ok;
}
