import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {formatBytes} from '../../cli/render.js';

type RestoreResult = {id: string; to: string; bytes: number; servedBy: {index: number; node: string}[]; files: number};

export default class SnapshotRestore extends SwarmCommand {
  static override summary = 'Restore a snapshot: fetch every part from a live copy, verify, and write it in one transaction.';
  static override description = `Each part comes from any copy whose sha256 matches (the other copy when one is corrupt); the whole is verified too; then the files are written under --to (default <data-dir>/restore/<id>) in one StateTransaction, so a crash leaves the target wholly old or wholly new.
A progress bar is drawn on a terminal; which peer served which part is printed.
Exit codes: 0 restored, 3 a part has no good copy left (nothing was changed) or no such snapshot, 6 the whole does not match.`;
  static override examples = ['<%= config.bin %> snapshot restore 3f9a', '<%= config.bin %> snapshot restore 3f9a --to /srv/restored'];
  static override args = {id: Args.string({required: true, description: 'Snapshot id (or unique prefix).'})};
  static override flags = {...attachFlags, to: Flags.string({summary: 'Directory on the node to restore into.'})};

  async run(): Promise<RestoreResult> {
    const {args, flags} = await this.parse(SnapshotRestore);
    const tty = Boolean(process.stderr.isTTY) && !this.jsonEnabled();
    const r = await withNode(flags, this.dataDir(flags), async (c) => {
      const full = (await c.call('snapshot.list', null)).find((m) => m.id.startsWith(args.id))?.id ?? args.id;
      let bar: NodeJS.Timeout | undefined;
      if (tty) {
        bar = setInterval(() => {
          void c.call('snapshot.progress', {id: full}).then((p) => {
            if (!p || p.total === 0) return;
            const frac = Math.min(1, p.done / p.total);
            const width = 30;
            process.stderr.write(`\r${p.phase.padEnd(9)} [${'#'.repeat(Math.round(frac * width)).padEnd(width)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(p.done)}/${formatBytes(p.total)}`);
          }, () => undefined);
        }, 200);
      }
      try {
        return await c.call('snapshot.restore', {id: args.id, ...(flags.to ? {to: flags.to} : {})}, {timeoutMs: 3_600_000});
      } finally {
        if (bar) {
          clearInterval(bar);
          process.stderr.write('\n');
        }
      }
    });
    if (!this.jsonEnabled()) {
      for (const s of r.servedBy) this.log(`part ${s.index} from ${s.node}`);
      this.log(`${r.id} restored to ${r.to}: ${r.files} files, ${formatBytes(r.bytes)}, verified`);
    }
    return r;
  }
}
