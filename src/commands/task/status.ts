import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {nodeNamer, taskDetail} from '../../cli/task-render.js';
import type {Task} from '../../core/fleet/task.js';

export default class TaskStatus extends SwarmCommand {
  static override summary = 'Show one task: its spec, state, result and history (where it ran, and why each change).';
  static override description = 'ID may be a unique prefix of at least 4 characters.\nExit codes: 0 ok, 2 ambiguous id, 3 no such task, 4 no node reachable.';
  static override examples = ['<%= config.bin %> task status 3f9a', '<%= config.bin %> task status 3f9a1c2b7d4e --json | jq .history'];
  static override args = {id: Args.string({required: true, description: 'Task id (or unique prefix).'})};
  static override flags = {...attachFlags};

  async run(): Promise<Task> {
    const {args, flags} = await this.parse(TaskStatus);
    return withNode(flags, this.dataDir(flags), async (c) => {
      const t = await c.call('task.get', {id: args.id});
      if (!this.jsonEnabled()) this.log(taskDetail(t, await nodeNamer(c)).trimEnd());
      return t;
    });
  }
}
