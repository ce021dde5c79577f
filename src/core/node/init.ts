import * as path from 'node:path';

import {dataFile, ensureDataDir} from '../config/data-dir.js';
import {createJoinSecretFile} from '../security/admission.js';
import {loadOrCreateIdentity} from '../security/identity.js';

/** `swarm node init`: identity (idempotent) and optionally a fresh join secret. */
export function initNode(opts: {dataDir: string; createJoinSecret: boolean; joinSecretFile?: string; force: boolean}) {
  ensureDataDir(opts.dataDir);
  const {identity, created} = loadOrCreateIdentity(dataFile(opts.dataDir, 'identityKey'));
  let joinSecretFile: string | null = null;
  if (opts.createJoinSecret) {
    joinSecretFile = path.resolve(opts.joinSecretFile ?? dataFile(opts.dataDir, 'joinSecret'));
    createJoinSecretFile(joinSecretFile, opts.force);
  }
  return {
    dataDir: opts.dataDir,
    id: identity.id,
    fingerprint: identity.fingerprint,
    publicKey: identity.publicKey.toString('hex'),
    identityCreated: created,
    joinSecretFile,
  };
}
