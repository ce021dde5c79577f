import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags, kvFlags} from '../../cli/flags.js';
import {kvOutcome} from '../../cli/kv-outcome.js';
import type {KvResult} from '../../core/consensus/kv/kv-store.js';

export default class KvDel extends SwarmCommand {
  static override summary = 'Delete a key from the replicated store.';
  static override description = 'Exit codes: 0 deleted, 3 no such key, 6 version mismatch or no leader, 7 no quorum in time.';
  static override examples = ['<%= config.bin %> kv del config/mode', '<%= config.bin %> kv del lock/a --if-version 3'];
  static override args = {key: Args.string({required: true})};
  static override flags = {...attachFlags, ...kvFlags, 'if-version': Flags.integer({summary: 'Only delete if the key is at this version.', min: 1})};

  async run(): Promise<KvResult> {
    const {args, flags} = await this.parse(KvDel);
    const r = await withNode(flags, this.dataDir(flags), (c) =>
      c.call('kv.del', {namespace: flags.namespace, key: args.key, ...(flags['if-version'] !== undefined ? {ifVersion: flags['if-version']} : {})}),
    );
    kvOutcome(r, `${flags.namespace}/${args.key}`);
    if (!this.jsonEnabled()) this.log(`deleted at revision ${r.ok ? r.revision : '-'}`);
    return r;
  }
}
