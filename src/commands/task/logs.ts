import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {followTask} from '../../cli/task-follow.js';
import type {TaskLogs} from '../../core/fleet/fleet-service.js';

export default class TaskLogsCommand extends SwarmCommand {
  static override summary = 'Print a task\'s output (fetched from the node that ran it).';
  static override description = `Without --attempt: the latest attempt. -f follows the output as it is written, through retries and teleports, until the task ends.
stdout goes to stdout and stderr to stderr. Exit codes: 0 ok, 3 no such task, 4 the node that ran it is unreachable.`;
  static override examples = ['<%= config.bin %> task logs 3f9a', '<%= config.bin %> task logs -f 3f9a', '<%= config.bin %> task logs 3f9a --attempt 1 --json'];
  static override args = {id: Args.string({required: true, description: 'Task id (or unique prefix).'})};
  static override flags = {
    ...attachFlags,
    follow: Flags.boolean({char: 'f', summary: 'Follow until the task ends.'}),
    attempt: Flags.integer({summary: 'Which attempt (default: the latest).', min: 1}),
  };

  async run(): Promise<{stdout: TaskLogs; stderr: TaskLogs} | void> {
    const {args, flags} = await this.parse(TaskLogsCommand);
    return withNode(flags, this.dataDir(flags), async (c) => {
      if (flags.follow) {
        await followTask(c, args.id, {json: false, logs: true, quiet: true});
        return;
      }
      const read = async (stream: 'stdout' | 'stderr'): Promise<TaskLogs> => {
        let text = '';
        let last: TaskLogs | undefined;
        for (;;) {
          const r: TaskLogs = await c.call('task.logs', {id: args.id, stream, offset: last?.offset ?? 0, ...(flags.attempt ? {attempt: flags.attempt} : {})});
          text += r.text;
          last = r;
          if (r.text === '') return {...r, offset: r.offset, text};
        }
      };
      const out = {stdout: await read('stdout'), stderr: await read('stderr')};
      if (!this.jsonEnabled()) {
        process.stdout.write(out.stdout.text);
        process.stderr.write(out.stderr.text);
      }
      return out;
    });
  }
}
