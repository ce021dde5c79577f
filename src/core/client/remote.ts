import * as fs from 'node:fs';

import {dataFile, ensureDataDir} from '../config/data-dir.js';
import {UsageError} from '../errors.js';
import {nullLogger} from '../log/logger.js';
import {buildAdmission} from '../security/admission.js';
import {Firewall} from '../security/firewall.js';
import {loadOrCreateIdentity} from '../security/identity.js';
import {normalizePeerAddress} from '../node/node.js';
import type {ControlResult} from '../node/control-types.js';
import {RemoteError, Voyager} from '../transport/voyager.js';
import type {AttachOptions, NodeClient} from './attach.js';
import {errorFromCode} from './attach.js';

/**
 * Attaches to a remote node over the same authenticated transport peers use, as role `client` with
 * an operator identity kept in the local data dir (so a trust list can name it).
 */
export async function attachRemote(opts: AttachOptions): Promise<NodeClient> {
  const endpoint = normalizePeerAddress(opts.endpoint!);
  ensureDataDir(opts.dataDir);
  const joinSecretFile = opts.joinSecretFile ?? dataFile(opts.dataDir, 'joinSecret');
  if (!fs.existsSync(joinSecretFile)) {
    throw new UsageError('--endpoint needs the cluster join secret: pass --join-secret-file or set SWARM_JOIN_SECRET_FILE');
  }
  const identity = loadOrCreateIdentity(dataFile(opts.dataDir, 'operatorKey')).identity;
  const admission = buildAdmission({joinSecretFile});
  // The client registers no handlers: only replies and the session's own confirm get through.
  const firewall: Firewall = new Firewall({clock: Date.now, sink: {audit: () => {}}}, {knownType: (t) => voyager.hasHandler(t)});
  const voyager: Voyager = new Voyager({identity, admission, firewall, log: nullLogger}, {role: 'client', name: 'swarm-cli'});
  await voyager.start();
  voyager.connect(endpoint);
  const timeoutMs = opts.timeoutMs ?? 5000;
  let peerId: string;
  try {
    peerId = (await voyager.waitForLink(endpoint, {timeoutMs})).id;
  } catch (err) {
    await voyager.stop();
    throw err;
  }
  return {
    call: async (method, params, options) => {
      try {
        return (await voyager.request(peerId, `control.${method}`, params, {timeoutMs: options?.timeoutMs ?? timeoutMs})) as ControlResult<typeof method>;
      } catch (err) {
        if (err instanceof RemoteError) throw errorFromCode(err.code, err.message);
        throw err;
      }
    },
    watch: () => Promise.reject(new UsageError('--watch needs the local control socket; run it on a node (no --endpoint)')),
    close: () => voyager.stop(),
  };
}
