import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {renderVerify} from '../../cli/snapshot-render.js';
import type {VerifyReport} from '../../core/snapshot/manifest.js';

export default class SnapshotRepair extends SwarmCommand {
  static override summary = 'Re-mirror the parts of a snapshot that lost a copy onto live peers.';
  static override description = 'Each degraded part is copied from its good copy to a live node that holds none (least loaded first); corrupt copies are removed; the manifest is updated.\nExit codes: 0 repaired (or nothing to do), 3 a part has no good copy left, 5 not enough live nodes.';
  static override examples = ['<%= config.bin %> snapshot repair 3f9a'];
  static override args = {id: Args.string({required: true, description: 'Snapshot id (or unique prefix).'})};
  static override flags = {...attachFlags};

  async run(): Promise<VerifyReport & {repaired: {index: number; from: string; to: string}[]}> {
    const {args, flags} = await this.parse(SnapshotRepair);
    const r = await withNode(flags, this.dataDir(flags), (c) => c.call('snapshot.repair', {id: args.id}, {timeoutMs: 3_600_000}));
    if (!this.jsonEnabled()) {
      for (const x of r.repaired) this.log(`part ${x.index}: copied from ${x.from} to ${x.to}`);
      if (r.repaired.length === 0) this.log('nothing to repair');
      this.log(renderVerify(r).trimEnd());
    }
    return r;
  }
}
