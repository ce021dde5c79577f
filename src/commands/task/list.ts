import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {nodeNamer, taskTable} from '../../cli/task-render.js';
import {decodeTask} from '../../core/fleet/task-store.js';
import type {Task} from '../../core/fleet/task.js';

export default class TaskList extends SwarmCommand {
  static override summary = 'List the fleet\'s tasks with their state, node and why they wait.';
  static override description = `With --watch: redraws on a terminal at every change; when piped (or with --json), prints the changed task as one JSON line per change.
Exit codes: 0 ok, 4 no node reachable, 7 timeout.`;
  static override examples = ['<%= config.bin %> task list', '<%= config.bin %> task list --json | jq \'.[] | select(.state == "pending") | .pendingReason\'', '<%= config.bin %> task list --watch'];
  static override flags = {
    ...attachFlags,
    watch: Flags.boolean({char: 'w', summary: 'Keep watching for changes.'}),
    state: Flags.string({summary: 'Only tasks in this state (pending, assigned, running, succeeded, failed, cancelled, lost).', multiple: true}),
  };

  async run(): Promise<Task[] | void> {
    const {flags} = await this.parse(TaskList);
    const keep = (t: Task): boolean => !flags.state || flags.state.includes(t.state);
    return withNode(flags, this.dataDir(flags), async (c) => {
      const name = await nodeNamer(c);
      const tasks = (await c.call('task.list', null)).filter(keep);
      if (!flags.watch) {
        if (!this.jsonEnabled()) this.log(tasks.length === 0 ? 'No tasks.' : taskTable(tasks, name, Date.now()).trimEnd());
        return tasks;
      }
      const tty = Boolean(process.stdout.isTTY) && !this.jsonEnabled();
      if (tty) process.stdout.write('\u001b[H\u001b[2J' + taskTable(tasks, name, Date.now()));
      await c.watch({namespace: 'tasks', prefix: 't/'}, (e) => {
        if (tty) {
          void c.call('task.list', null).then((all) => process.stdout.write('\u001b[H\u001b[2J' + taskTable(all.filter(keep), name, Date.now())));
          return;
        }
        if (e.type !== 'put' || e.value === undefined) return;
        const t = decodeTask({namespace: e.namespace, key: e.key, value: e.value, createRevision: 0, modRevision: e.revision, version: 0});
        if (!t || !keep(t)) return;
        process.stdout.write(JSON.stringify(t) + '\n');
      });
    });
  }
}
