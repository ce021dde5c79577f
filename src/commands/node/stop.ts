import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';

export interface NodeStopResult {
  stopped: boolean;
  id: string;
  pid: number;
}

export default class NodeStop extends SwarmCommand {
  static override summary = 'Stop the node gracefully (as SIGTERM would) and wait until it is gone.';
  static override description = 'Exit codes: 0 stopped, 4 no node reachable, 7 it did not stop in time.';
  static override examples = ['<%= config.bin %> node stop', '<%= config.bin %> node stop --data-dir /tmp/n1'];
  static override flags = {...attachFlags};

  async run(): Promise<NodeStopResult> {
    const {flags} = await this.parse(NodeStop);
    const dataDir = this.dataDir(flags);
    const {waitForExit} = await import('../../core/node/wait-exit.js');
    const result = await withNode(flags, dataDir, async (c, timeoutMs) => {
      const status = await c.call('status', null);
      await c.call('stop', null);
      if (!flags.endpoint) await waitForExit(status.pid, timeoutMs);
      return {stopped: true, id: status.id, pid: status.pid};
    });
    if (!this.jsonEnabled()) this.log(`node ${result.id} (pid ${result.pid}) stopped`);
    return result;
  }
}
