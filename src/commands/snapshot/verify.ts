import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {renderVerify} from '../../cli/snapshot-render.js';
import {ExitCode} from '../../core/errors.js';
import type {VerifyReport} from '../../core/snapshot/manifest.js';

export default class SnapshotVerify extends SwarmCommand {
  static override summary = 'Check every copy of every part of a snapshot against its sha256.';
  static override description = 'Degraded parts (a copy missing, corrupt or unreachable) and lost parts (no good copy) are named.\nExit codes: 0 healthy, 5 degraded but restorable (swarm snapshot repair fixes it), 3 a part is lost or no such snapshot.';
  static override examples = ['<%= config.bin %> snapshot verify 3f9a', '<%= config.bin %> snapshot verify 3f9a --json | jq .degraded'];
  static override args = {id: Args.string({required: true, description: 'Snapshot id (or unique prefix).'})};
  static override flags = {...attachFlags};

  async run(): Promise<VerifyReport> {
    const {args, flags} = await this.parse(SnapshotVerify);
    const r = await withNode(flags, this.dataDir(flags), (c) => c.call('snapshot.verify', {id: args.id}, {timeoutMs: 600_000}));
    if (!this.jsonEnabled()) this.log(renderVerify(r).trimEnd());
    process.exitCode = r.healthy ? ExitCode.Ok : r.restorable ? ExitCode.Refused : ExitCode.NotFound;
    return r;
  }
}
