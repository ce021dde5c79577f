import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags, kvFlags} from '../../cli/flags.js';
import {table} from '../../cli/render.js';
import type {KvRecord} from '../../core/consensus/kv/kv-store.js';

export default class KvList extends SwarmCommand {
  static override summary = 'List keys in a namespace (optionally under a prefix).';
  static override description = 'Linearizable by default. Exit codes: 0 ok, 4 no node reachable, 7 no quorum in time.';
  static override examples = ['<%= config.bin %> kv list', '<%= config.bin %> kv list --prefix config/ --json'];
  static override flags = {
    ...attachFlags,
    ...kvFlags,
    prefix: Flags.string({summary: 'Only keys starting with this.', default: ''}),
    serializable: Flags.boolean({summary: 'Serve from the local replica without a quorum round.'}),
    watch: Flags.boolean({char: 'w', summary: 'Instead of listing, print each change under the prefix as it happens (a JSON line each when piped).'}),
  };

  async run(): Promise<KvRecord[] | void> {
    const {flags} = await this.parse(KvList);
    if (flags.watch) {
      return withNode(flags, this.dataDir(flags), async (c) => {
        const {followKv} = await import('../../cli/kv-watch.js');
        await followKv(c, {namespace: flags.namespace, prefix: flags.prefix, json: this.jsonEnabled()});
      });
    }
    const rs = await withNode(flags, this.dataDir(flags), (c) => c.call('kv.list', {namespace: flags.namespace, prefix: flags.prefix, serializable: flags.serializable}));
    if (!this.jsonEnabled()) {
      const cut = (v: string): string => (v.length > 60 ? `${v.slice(0, 57)}...` : v).replace(/\n/g, '\\n');
      this.log(table(['KEY', 'VERSION', 'MOD-REVISION', 'VALUE'], rs.map((r) => [r.key, String(r.version), String(r.modRevision), cut(r.value)])).trimEnd());
    }
    return rs;
  }
}
