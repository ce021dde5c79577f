import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import type {MembershipResult} from '../../core/node/control-types.js';

export default class FleetRemove extends SwarmCommand {
  static override summary = 'Remove a node from the Raft membership.';
  static override description = 'NODE: name, id or id prefix (a full id works for a node that is gone). Exit codes: 0 ok, 3 unknown node, 6 no leader or another change pending, 7 timeout.';
  static override examples = ['<%= config.bin %> fleet remove node-d'];
  static override args = {node: Args.string({required: true, description: 'Node name, id or id prefix.'})};
  static override flags = {...attachFlags};

  async run(): Promise<MembershipResult> {
    const {args, flags} = await this.parse(FleetRemove);
    const r = await withNode(flags, this.dataDir(flags), (c, timeoutMs) => c.call('fleet.remove', {node: args.node}, {timeoutMs: timeoutMs + 1000}));
    if (!this.jsonEnabled()) this.log(`voters: ${r.voters.join(', ')}${r.learners.length ? `; learners: ${r.learners.join(', ')}` : ''}`);
    return r;
  }
}
