import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags, parseEnvFlags, parseLabels} from '../../cli/flags.js';
import {followTask, taskExitCode} from '../../cli/task-follow.js';
import {parseDurationMs} from '../../core/config/duration.js';
import {parseSizeBytes} from '../../core/config/size.js';
import {UsageError} from '../../core/errors.js';
import type {Task} from '../../core/fleet/task.js';

export default class TaskSubmit extends SwarmCommand {
  static override summary = 'Submit a task to the fleet: it is placed by priority, capacity and capability, and run in a sandbox.';
  static override description = `The task is recorded in the replicated state and placed by the leader on a node with room for it
(highest priority first, then best fit; GPU nodes are kept for GPU tasks). A task nobody can run stays pending, with the reason in swarm task list.
Secrets go in --env only as vault references (API_KEY=vault:NAME).
Without --wait it prints the task id and exits 0. With --wait it follows the task and exits with its exit code
(7 timeout, 5 stopped by a limit, cancelled or lost, 1 sandbox error).
Exit codes: 0 submitted, 2 bad flag, 4 no node reachable, 6 no leader, 7 no quorum in time.`;
  static override examples = [
    '<%= config.bin %> task submit -- sh -c "echo hello"',
    '<%= config.bin %> task submit --gpu 1 --priority 10 --image trainer:1 -- python train.py',
    '<%= config.bin %> task submit --label zone=eu --cpu 0.5 --memory 128m --wait -- make test',
  ];
  static override strict = false;
  static override flags = {
    ...attachFlags,
    image: Flags.string({summary: 'Image (the docker runner).'}),
    cpu: Flags.string({summary: 'Cores the task needs (and is limited to).', default: '1'}),
    memory: Flags.string({summary: 'Memory the task needs (and is limited to), e.g. 256m.', default: '256m'}),
    gpu: Flags.integer({summary: 'GPUs the task needs.', default: 0, min: 0}),
    label: Flags.string({summary: 'Node label the task needs, key=value (repeatable).', multiple: true}),
    priority: Flags.integer({summary: 'Higher runs first.', default: 0}),
    runner: Flags.option({options: ['auto', 'docker', 'process'] as const, default: 'auto', summary: 'Sandbox runner (auto: docker when the task has an image and the node an engine).'})(),
    'allow-egress': Flags.string({summary: 'host:port the task may reach (repeatable); none by default.', multiple: true}),
    env: Flags.string({summary: 'Environment NAME=value (repeatable); secrets as NAME=vault:REF.', multiple: true}),
    retries: Flags.integer({summary: 'Extra attempts after a failure or a lost node.', default: 0, min: 0, max: 100}),
    'run-timeout': Flags.string({summary: 'Wall-clock limit for one attempt.', default: '1h'}),
    wait: Flags.boolean({summary: 'Follow the task to its end and exit with its exit code.'}),
  };

  async run(): Promise<Task> {
    const {flags, argv} = await this.parse(TaskSubmit);
    const command = (argv as string[]).filter((a) => a !== '--');
    if (command.length === 0) throw new UsageError('give the command after --, e.g. swarm task submit -- echo hi');
    const cores = Number(flags.cpu);
    if (!(cores > 0 && cores <= 1024)) throw new UsageError(`--cpu ${flags.cpu}: expected a positive number of cores`);
    const spec = {
      command,
      ...(flags.image ? {image: flags.image} : {}),
      priority: flags.priority,
      requires: {cores, memoryBytes: parseSizeBytes(flags.memory, '--memory'), gpus: flags.gpu, labels: parseLabels(flags.label)},
      env: parseEnvFlags(flags.env),
      timeoutMs: parseDurationMs(flags['run-timeout'], '--run-timeout'),
      retries: flags.retries,
      runner: flags.runner,
      allowEgress: flags['allow-egress'] ?? [],
    };
    return withNode(flags, this.dataDir(flags), async (c) => {
      const task = await c.call('task.submit', {spec});
      if (!flags.wait) {
        if (!this.jsonEnabled()) this.log(task.id);
        return task;
      }
      const end = await followTask(c, task.id, {json: this.jsonEnabled(), logs: !this.jsonEnabled()});
      process.exitCode = taskExitCode(end);
      return end;
    });
  }
}
