import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {formatBytes} from '../../cli/render.js';
import type {SnapshotManifest} from '../../core/snapshot/manifest.js';

export default class SnapshotCreate extends SwarmCommand {
  static override summary = 'Snapshot this node\'s state, cut into parts, each part mirrored on two peers (RAID-10).';
  static override description = `The state: the replicated store, the node's files in its data dir (not its keys, socket or WAL), and each --include directory.
Each part goes to two different live peers, spread so that losing any one node loses no part; the manifest (every part's sha256, size and holders) is recorded in the replicated store.
Exit codes: 0 created, 2 bad flag, 5 fewer than two live peers, 4 no node reachable.`;
  static override examples = ['<%= config.bin %> snapshot create', '<%= config.bin %> snapshot create --parts 8 --label nightly --include /srv/agent-memory'];
  static override flags = {
    ...attachFlags,
    parts: Flags.integer({summary: 'How many parts (stripes) to cut it into.', default: 4, min: 1, max: 1024}),
    label: Flags.string({summary: 'A label to find it by.'}),
    include: Flags.string({summary: 'Also snapshot this directory on the node (repeatable).', multiple: true}),
  };

  async run(): Promise<SnapshotManifest> {
    const {flags} = await this.parse(SnapshotCreate);
    const m = await withNode(flags, this.dataDir(flags), (c) =>
      c.call('snapshot.create', {parts: flags.parts, ...(flags.label ? {label: flags.label} : {}), ...(flags.include ? {include: flags.include} : {})}, {timeoutMs: 3_600_000}),
    );
    if (!this.jsonEnabled()) this.log(`${m.id} created: ${formatBytes(m.bytes)} in ${m.parts.length} parts, each on 2 peers`);
    return m;
  }
}
