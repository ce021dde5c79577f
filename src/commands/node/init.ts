import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {keyValues} from '../../cli/render.js';

export interface NodeInitResult {
  dataDir: string;
  id: string;
  fingerprint: string;
  publicKey: string;
  identityCreated: boolean;
  joinSecretFile: string | null;
}

export default class NodeInit extends SwarmCommand {
  static override summary = "Create the node's identity and, optionally, a new cluster join secret.";
  static override description = `Writes the Ed25519 identity (identity.key, 0600) into --data-dir if missing, and with --join-secret creates a random join secret file (0600) to share with the other nodes out of band. The secret itself is never printed.
Exit codes: 0 ok, 2 the secret file exists (pass --force).`;
  static override examples = ['<%= config.bin %> node init --join-secret', '<%= config.bin %> node init --join-secret --join-secret-file ./cluster.secret'];
  static override flags = {
    'join-secret': Flags.boolean({summary: 'Also create a new join secret.', env: 'SWARM_INIT_JOIN_SECRET'}),
    'join-secret-file': Flags.file({summary: 'Where to write the join secret (default: <data-dir>/join.secret).', env: 'SWARM_JOIN_SECRET_FILE'}),
    force: Flags.boolean({summary: 'Replace an existing join secret file.'}),
  };

  async run(): Promise<NodeInitResult> {
    const {flags} = await this.parse(NodeInit);
    const {initNode} = await import('../../core/node/init.js');
    const result = initNode({
      dataDir: this.dataDir(flags),
      createJoinSecret: flags['join-secret'],
      ...(flags['join-secret-file'] ? {joinSecretFile: flags['join-secret-file']} : {}),
      force: flags.force,
    });
    if (!this.jsonEnabled()) {
      this.log(
        keyValues([
          ['ID', result.id],
          ['Fingerprint', result.fingerprint],
          ['Public key', result.publicKey],
          ['Identity', result.identityCreated ? 'created' : 'exists'],
          ['Join secret', result.joinSecretFile ?? '-'],
        ]).trimEnd(),
      );
    }
    return result;
  }
}
