import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';

export default class SnapshotRm extends SwarmCommand {
  static override summary = 'Delete a snapshot: its parts on every holder, and its manifest.';
  static override description = 'Holders that cannot be reached are named; their copies are orphaned files in snapshot-parts/.\nExit codes: 0 removed, 3 no such snapshot.';
  static override examples = ['<%= config.bin %> snapshot rm 3f9a'];
  static override args = {id: Args.string({required: true, description: 'Snapshot id (or unique prefix).'})};
  static override flags = {...attachFlags};

  async run(): Promise<{id: string; removed: true; unreachable: string[]}> {
    const {args, flags} = await this.parse(SnapshotRm);
    const r = await withNode(flags, this.dataDir(flags), (c) => c.call('snapshot.rm', {id: args.id}, {timeoutMs: 120_000}));
    if (!this.jsonEnabled()) this.log(`${r.id} removed${r.unreachable.length ? ` (unreachable holders kept their copies: ${r.unreachable.join(', ')})` : ''}`);
    return r;
  }
}
