import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';

export default class ConsensusTransferLeader extends SwarmCommand {
  static override summary = 'Move Raft leadership to another voter (the most caught-up one by default).';
  static override description = 'Works from any member: the request is forwarded to the leader. Exit codes: 0 moved, 3 no such member, 6 no leader, 7 did not move in time.';
  static override examples = ['<%= config.bin %> consensus transfer-leader', '<%= config.bin %> consensus transfer-leader --to node-b'];
  static override flags = {...attachFlags, to: Flags.string({summary: 'Target member: name, id or id prefix.', env: 'SWARM_TO'})};

  async run(): Promise<{leader: string}> {
    const {flags} = await this.parse(ConsensusTransferLeader);
    const r = await withNode(flags, this.dataDir(flags), (c, timeoutMs) => c.call('consensus.transfer', flags.to ? {to: flags.to} : {}, {timeoutMs: timeoutMs + 1000}));
    if (!this.jsonEnabled()) this.log(`leader is now ${r.leader}`);
    return r;
  }
}
