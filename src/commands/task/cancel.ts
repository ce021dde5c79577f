import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import type {Task} from '../../core/fleet/task.js';

export default class TaskCancel extends SwarmCommand {
  static override summary = 'Cancel a task: it will not be placed again, and its sandbox is stopped if it runs.';
  static override description = 'Exit codes: 0 cancelled, 3 no such task, 6 it already ended (succeeded, failed or cancelled), 4 no node reachable.';
  static override examples = ['<%= config.bin %> task cancel 3f9a'];
  static override args = {id: Args.string({required: true, description: 'Task id (or unique prefix).'})};
  static override flags = {...attachFlags};

  async run(): Promise<Task> {
    const {args, flags} = await this.parse(TaskCancel);
    const t = await withNode(flags, this.dataDir(flags), (c) => c.call('task.cancel', {id: args.id}));
    if (!this.jsonEnabled()) this.log(`${t.id} cancelled`);
    return t;
  }
}
