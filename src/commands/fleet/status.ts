import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {colorState, formatBytes, formatLabels, table} from '../../cli/render.js';
import {formatDurationMs, parseDurationMs} from '../../core/config/duration.js';
import type {FleetStatus} from '../../core/node/control-types.js';

export default class FleetStatusCommand extends SwarmCommand {
  static override summary = 'List every member of the cluster with its state, last contact, RTT, labels and capacity.';
  static override description = `States: alive, suspect (silent past --suspect-after), dead (silent past --dead-after), left (said goodbye).
With --watch: redraws in place on a terminal; when piped, prints one JSON line per change.
Exit codes: 0 ok, 4 no node reachable, 7 timeout.`;
  static override examples = ['<%= config.bin %> fleet status', '<%= config.bin %> fleet status --json | jq \'.members[] | select(.state != "alive")\'', '<%= config.bin %> fleet status --watch'];
  static override flags = {
    ...attachFlags,
    watch: Flags.boolean({char: 'w', summary: 'Keep watching for changes.'}),
    interval: Flags.string({summary: 'Poll period with --watch.', default: '1s', env: 'SWARM_WATCH_INTERVAL'}),
  };

  async run(): Promise<FleetStatus | void> {
    const {flags} = await this.parse(FleetStatusCommand);
    if (!flags.watch) {
      const fleet = await withNode(flags, this.dataDir(flags), (c) => c.call('fleet', null));
      if (!this.jsonEnabled()) this.log(render(fleet).trimEnd());
      return fleet;
    }
    const intervalMs = parseDurationMs(flags.interval, '--interval');
    const tty = Boolean(process.stdout.isTTY) && !this.jsonEnabled();
    await withNode(flags, this.dataDir(flags), async (c) => {
      let last = '';
      for (;;) {
        const fleet = await c.call('fleet', null);
        // A change is a change of who is there and in which state, not of timers ticking.
        const key = JSON.stringify(fleet.members.map((m) => [m.id, m.state, m.address]));
        if (tty) {
          process.stdout.write('\u001b[H\u001b[2J' + render(fleet));
        } else if (key !== last) {
          process.stdout.write(JSON.stringify(fleet) + '\n');
        }
        last = key;
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    });
  }
}

function render(f: FleetStatus): string {
  const rows = f.members.map((m) => [
    m.name + (m.self ? '*' : ''),
    m.id.slice(0, 12),
    colorState(m.state),
    m.address.replace(/^tcp:\/\//, ''),
    m.lastSeenAgoMs === null ? '-' : m.self ? 'now' : `${formatDurationMs(m.lastSeenAgoMs)} ago`,
    m.rttMs === null ? '-' : m.self ? '-' : `${m.rttMs}ms`,
    String(m.capacity.cores),
    formatBytes(m.capacity.memoryBytes),
    String(m.capacity.gpus),
    formatLabels(m.labels),
  ]);
  return table(['NAME', 'ID', 'STATE', 'ADDRESS', 'LAST SEEN', 'RTT', 'CORES', 'MEMORY', 'GPUS', 'LABELS'], rows);
}
