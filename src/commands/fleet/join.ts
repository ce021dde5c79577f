import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import type {MembershipResult} from '../../core/node/control-types.js';

export default class FleetJoin extends SwarmCommand {
  static override summary = 'Add a node to the Raft membership (as a learner, then a voter once added).';
  static override description = 'NODE must be a connected member (see `swarm fleet status`): name, id or id prefix. One membership change at a time. Exit codes: 0 ok, 3 unknown node, 6 no leader or another change pending, 7 timeout.';
  static override examples = ['<%= config.bin %> fleet join node-d', '<%= config.bin %> fleet join node-d --learner'];
  static override args = {node: Args.string({required: true, description: 'Node name, id or id prefix.'})};
  static override flags = {...attachFlags, learner: Flags.boolean({summary: 'Add as a non-voting learner only.'})};

  async run(): Promise<MembershipResult> {
    const {args, flags} = await this.parse(FleetJoin);
    const r = await withNode(flags, this.dataDir(flags), (c, timeoutMs) => c.call('fleet.join', {node: args.node, learner: flags.learner}, {timeoutMs: timeoutMs * 2 + 1000}));
    if (!this.jsonEnabled()) this.log(`voters: ${r.voters.join(', ')}${r.learners.length ? `; learners: ${r.learners.join(', ')}` : ''}`);
    return r;
  }
}
