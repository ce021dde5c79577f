import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags, kvFlags} from '../../cli/flags.js';
import type {KvRecord} from '../../core/consensus/kv/kv-store.js';

export default class KvGet extends SwarmCommand {
  static override summary = 'Read a key (linearizable by default) and print its value.';
  static override description = '--serializable reads the local copy without asking the leader (faster, possibly stale). Exit codes: 0 ok, 3 no such key, 7 no quorum in time.';
  static override examples = ['<%= config.bin %> kv get config/mode', '<%= config.bin %> kv get config/mode --json | jq .version'];
  static override args = {key: Args.string({required: true})};
  static override flags = {
    ...attachFlags,
    ...kvFlags,
    serializable: Flags.boolean({summary: 'Serve from the local replica without a quorum round.'}),
    watch: Flags.boolean({char: 'w', summary: 'Instead of reading once, print each change to the key as it happens (a JSON line each when piped).'}),
  };

  async run(): Promise<KvRecord | void> {
    const {args, flags} = await this.parse(KvGet);
    if (flags.watch) {
      return withNode(flags, this.dataDir(flags), async (c) => {
        const {followKv} = await import('../../cli/kv-watch.js');
        await followKv(c, {namespace: flags.namespace, prefix: args.key, exact: args.key, json: this.jsonEnabled()});
      });
    }
    const r = await withNode(flags, this.dataDir(flags), (c) => c.call('kv.get', {namespace: flags.namespace, key: args.key, serializable: flags.serializable}));
    if (!this.jsonEnabled()) process.stdout.write(r.value + (process.stdout.isTTY ? '\n' : ''));
    return r;
  }
}
