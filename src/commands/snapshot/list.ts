import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {formatBytes, table} from '../../cli/render.js';
import {nodeNamer} from '../../cli/task-render.js';
import type {SnapshotManifest} from '../../core/snapshot/manifest.js';

export default class SnapshotList extends SwarmCommand {
  static override summary = 'List snapshots: id, label, source node, size, parts.';
  static override description = 'Exit codes: 0 ok, 4 no node reachable.';
  static override examples = ['<%= config.bin %> snapshot list', '<%= config.bin %> snapshot list --json'];
  static override flags = {...attachFlags};

  async run(): Promise<SnapshotManifest[]> {
    const {flags} = await this.parse(SnapshotList);
    return withNode(flags, this.dataDir(flags), async (c) => {
      const all = await c.call('snapshot.list', null);
      if (!this.jsonEnabled()) {
        const name = await nodeNamer(c);
        this.log(all.length === 0 ? 'No snapshots.' : table(['ID', 'LABEL', 'NODE', 'CREATED', 'SIZE', 'PARTS'], all.map((m) => [m.id, m.label ?? '-', name(m.node), m.createdAt, formatBytes(m.bytes), String(m.parts.length)])).trimEnd());
      }
      return all;
    });
  }
}
