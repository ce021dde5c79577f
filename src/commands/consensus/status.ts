import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {keyValues, table} from '../../cli/render.js';
import type {ConsensusStatus} from '../../core/consensus/raft/driver.js';

export default class ConsensusStatusCommand extends SwarmCommand {
  static override summary = 'Show Raft state: term, leader, role, commit and applied index, members\' match and lag, last snapshot.';
  static override description = 'Members\' replication state (match, lag) is tracked by the leader; a follower asks the leader for it. Exit codes: 0 ok, 4 no node reachable, 7 timeout.';
  static override examples = ['<%= config.bin %> consensus status', '<%= config.bin %> consensus status --json | jq .leader'];
  static override flags = {...attachFlags, local: Flags.boolean({summary: "Only this node's view: don't ask the leader for the members' state."})};

  async run(): Promise<ConsensusStatus> {
    const {flags} = await this.parse(ConsensusStatusCommand);
    const st = await withNode(flags, this.dataDir(flags), (c) => c.call('consensus.status', {local: flags.local}));
    if (!this.jsonEnabled()) {
      this.log(
        keyValues([
          ['ID', st.id],
          ['Role', st.role],
          ['Term', String(st.term)],
          ['Leader', st.leader || '-'],
          ['Commit', String(st.commit)],
          ['Applied', String(st.applied)],
          ['Last index', String(st.lastIndex)],
          ['Voters', st.voters.join(', ') || '-'],
          ['Learners', st.learners.join(', ') || '-'],
          ['Snapshot', st.snapshot.index ? `index ${st.snapshot.index}, term ${st.snapshot.term}` : '-'],
        ]).trimEnd(),
      );
      if (st.members.length > 0) {
        this.log('');
        this.log(table(['MEMBER', 'MATCH', 'NEXT', 'LAG', 'STATE', 'ROLE', 'ACTIVE'], st.members.map((m) => [m.id, String(m.match), String(m.next), String(m.lag), m.state, m.learner ? 'learner' : 'voter', m.active ? 'yes' : 'no'])).trimEnd());
      }
    }
    return st;
  }
}
