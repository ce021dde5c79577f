import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {followTask, isFinal} from '../../cli/task-follow.js';
import {parseDurationMs} from '../../core/config/duration.js';
import {TimeoutError, UsageError} from '../../core/errors.js';
import type {TeleportResult} from '../../core/fleet/fleet-service.js';

export default class TaskTeleport extends SwarmCommand {
  static override summary = 'Move a task to another node: to a named node, or to one with a GPU or a label.';
  static override description = `A pending or assigned task is re-placed. A running task is checkpointed on its node (its work dir is archived and the sandbox stopped),
then restarted on the target from that checkpoint: the archive travels over the cluster transport. Each step is printed; the task's history shows where it ran.
Unless --no-wait, it waits until the task runs on its new node (or ends).
Exit codes: 0 moved, 2 bad flags, 3 no such task or node, 5 no node qualifies or the task already ended, 6 it changed meanwhile, 7 not running on the target within --wait-timeout.`;
  static override examples = ['<%= config.bin %> task teleport 3f9a --to gpu-node-1', '<%= config.bin %> task teleport 3f9a --require gpu', '<%= config.bin %> task teleport 3f9a --require zone=eu --no-wait'];
  static override args = {id: Args.string({required: true, description: 'Task id (or unique prefix).'})};
  static override flags = {
    ...attachFlags,
    to: Flags.string({summary: 'Target node (name, id or id prefix).', exclusive: ['require']}),
    require: Flags.string({summary: 'What the target must have: gpu, or label=value (repeatable).', multiple: true}),
    wait: Flags.boolean({summary: 'Wait until it runs on the new node.', default: true, allowNo: true}),
    'wait-timeout': Flags.string({summary: 'How long to wait for it to run there.', default: '60s'}),
  };

  async run(): Promise<TeleportResult> {
    const {args, flags} = await this.parse(TaskTeleport);
    if (!flags.to && !flags.require) throw new UsageError('give --to NODE or --require gpu|label=value');
    const waitMs = parseDurationMs(flags['wait-timeout'], '--wait-timeout');
    return withNode(flags, this.dataDir(flags), async (c) => {
      const r = await c.call('task.teleport', {id: args.id, ...(flags.to ? {to: flags.to} : {}), ...(flags.require ? {require: flags.require} : {})}, {timeoutMs: 120_000});
      if (!this.jsonEnabled()) for (const s of r.steps) process.stderr.write(`${r.task.id}: ${s}\n`);
      if (!flags.wait) return r;
      const deadline = Date.now() + waitMs;
      const end = await followTask(c, r.task.id, {
        json: false,
        logs: false,
        quiet: this.jsonEnabled(),
        since: r.task.history.length,
        until: (t) => isFinal(t) || (t.state === 'running' && t.node !== r.from) || Date.now() > deadline,
      });
      if (!isFinal(end) && !(end.state === 'running' && end.node !== r.from)) throw new TimeoutError(`task ${end.id} is ${end.state}, not yet running on its new node after ${flags['wait-timeout']}; see swarm task status ${end.id}`);
      return {...r, task: end};
    });
  }
}
