import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags} from '../../cli/flags.js';
import {formatDurationMs} from '../../core/config/duration.js';
import type {NodeStatus} from '../../core/node/control-types.js';
import {formatBytes, formatLabels, keyValues} from '../../cli/render.js';

export default class NodeStatusCommand extends SwarmCommand {
  static override summary = "Show the node's identity, listen address, failure-detector timings and firewall counters.";
  static override description = 'Attaches to the node (control socket in --data-dir, or --endpoint). Exit codes: 0 ok, 4 no node reachable, 7 timeout.';
  static override examples = ['<%= config.bin %> node status', '<%= config.bin %> node status --json | jq .firewall.drops', '<%= config.bin %> node status --endpoint tcp://10.0.0.5:7420 --join-secret-file ./join.secret'];
  static override flags = {...attachFlags};

  async run(): Promise<NodeStatus> {
    const {flags} = await this.parse(NodeStatusCommand);
    const status = await withNode(flags, this.dataDir(flags), (c) => c.call('status', null));
    if (!this.jsonEnabled()) this.log(render(status).trimEnd());
    return status;
  }
}

function render(s: NodeStatus): string {
  const fd = s.failureDetector;
  const drops = Object.entries(s.firewall.drops)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r}=${n}`)
    .join(' ');
  return keyValues([
    ['ID', s.id],
    ['Name', s.name],
    ['Fingerprint', s.fingerprint],
    ['Public key', s.publicKey],
    ['Listen', s.listen],
    ['PID', String(s.pid)],
    ['Version', s.version],
    ['Uptime', formatDurationMs(s.uptimeMs)],
    ['Data dir', s.dataDir],
    ['Admission', `${s.admission.joinSecret ? 'join secret' : 'no join secret'}${s.admission.trustListKeys !== null ? `, trust list (${s.admission.trustListKeys} keys)` : ''}`],
    ['Heartbeat', `every ${formatDurationMs(fd.heartbeatIntervalMs)}, suspect after ${formatDurationMs(fd.suspectAfterMs)}, dead after ${formatDurationMs(fd.deadAfterMs)}`],
    ['mDNS', s.mdns.enabled ? `on ${s.mdns.interface}` : 'off'],
    ['Labels', formatLabels(s.labels)],
    ['Capacity', `${s.capacity.cores} cores, ${formatBytes(s.capacity.memoryBytes)}, ${s.capacity.gpus} GPUs`],
    ['Sessions', `${s.transport.sessionsIn} in, ${s.transport.linksOut} out; ${s.transport.handshakesCompleted} handshakes, ${s.transport.handshakesFailed} failed, ${s.transport.rekeys} rekeys`],
    ['Admitted', String(s.firewall.admitted)],
    ['Dropped', `${s.firewall.dropped}${drops ? ` (${drops})` : ''}`],
  ]);
}
