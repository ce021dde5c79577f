import * as os from 'node:os';
import * as path from 'node:path';

import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {parseLabels} from '../../cli/flags.js';
import {parseDurationMs} from '../../core/config/duration.js';
import type {NodeStatus} from '../../core/node/control-types.js';

export default class NodeStart extends SwarmCommand {
  static override summary = 'Start a swarm node (foreground, or --detach).';
  static override description = `Runs the node until SIGINT/SIGTERM (graceful: peers are told, mDNS says goodbye, exit 0 within 2 s; a second signal exits at once).
The first start creates the node's Ed25519 identity in --data-dir, and a join secret there unless --join-secret-file or --trust-file is given.
Exit codes: 0 ok, 2 bad flag, 6 port in use, 7 --detach timed out.`;

  static override examples = [
    '<%= config.bin %> node start',
    '<%= config.bin %> node start --detach --data-dir /tmp/n1 --port 7421 --no-mdns',
    '<%= config.bin %> node start --bind 10.0.0.5 --peer 10.0.0.6:7420 --label zone=a --join-secret-file ./join.secret',
  ];

  static override flags = {
    name: Flags.string({summary: 'Node name shown in fleet status (default: the host name).', env: 'SWARM_NAME'}),
    bind: Flags.string({summary: 'Address to listen on (and run mDNS on).', default: '127.0.0.1', env: 'SWARM_BIND'}),
    port: Flags.integer({summary: 'Transport port (0 picks a free one).', default: 7420, min: 0, max: 65535, env: 'SWARM_PORT'}),
    advertise: Flags.string({summary: 'Address announced to peers, tcp://host:port (default: bind address).', env: 'SWARM_ADVERTISE'}),
    peer: Flags.string({summary: 'Static peer host:port (repeatable).', multiple: true, env: 'SWARM_PEER', delimiter: ','}),
    label: Flags.string({summary: 'Label key=value (repeatable).', multiple: true, env: 'SWARM_LABEL', delimiter: ','}),
    gpus: Flags.integer({summary: 'GPUs to declare (default: counted with nvidia-smi).', min: 0, env: 'SWARM_GPUS'}),
    mdns: Flags.boolean({summary: 'Discover peers with mDNS on the bind interface.', default: true, allowNo: true, env: 'SWARM_MDNS'}),
    'join-secret-file': Flags.file({summary: 'Cluster join secret (0600); see `swarm node init`.', env: 'SWARM_JOIN_SECRET_FILE'}),
    'trust-file': Flags.file({summary: 'Trust list: identity public keys (hex) allowed to join, one a line.', env: 'SWARM_TRUST_FILE'}),
    'heartbeat-interval': Flags.string({summary: 'Heartbeat period.', default: '1s', env: 'SWARM_HEARTBEAT_INTERVAL'}),
    'suspect-after': Flags.string({summary: 'Silence after which a member is suspect.', default: '3s', env: 'SWARM_SUSPECT_AFTER'}),
    'dead-after': Flags.string({summary: 'Silence after which a member is dead.', default: '10s', env: 'SWARM_DEAD_AFTER'}),
    'raft-bootstrap': Flags.string({
      summary: 'Initial Raft voters by node name ("self" = this node), comma-separated; same value on each of them.',
      description: 'Only read on the first start (empty log). Nodes not named here join later with `swarm fleet join`.',
      multiple: true,
      delimiter: ',',
      env: 'SWARM_RAFT_BOOTSTRAP',
    }),
    'raft-snapshot-every': Flags.integer({summary: 'Snapshot and compact the Raft log every N applied entries.', default: 10_000, min: 1, env: 'SWARM_RAFT_SNAPSHOT_EVERY'}),
    'raft-tick': Flags.string({summary: 'Raft tick; the election timeout is 10-20 ticks.', default: '100ms', env: 'SWARM_RAFT_TICK'}),
    'log-level': Flags.option({options: ['debug', 'info', 'warn', 'error'] as const, default: 'info', env: 'SWARM_LOG_LEVEL'})(),
    detach: Flags.boolean({summary: 'Run in the background; return once the node answers.', env: 'SWARM_DETACH'}),
  };

  async run(): Promise<NodeStatus | void> {
    const {flags} = await this.parse(NodeStart);
    const dataDir = this.dataDir(flags);
    const failureDetector = {
      heartbeatIntervalMs: parseDurationMs(flags['heartbeat-interval'], '--heartbeat-interval'),
      suspectAfterMs: parseDurationMs(flags['suspect-after'], '--suspect-after'),
      deadAfterMs: parseDurationMs(flags['dead-after'], '--dead-after'),
    };
    const {UsageError} = await import('../../core/errors.js');
    const fd = failureDetector;
    if (!(fd.heartbeatIntervalMs < fd.suspectAfterMs && fd.suspectAfterMs < fd.deadAfterMs)) {
      throw new UsageError('need --heartbeat-interval < --suspect-after < --dead-after');
    }
    const labels = parseLabels(flags.label);
    if (flags.detach) {
      const {startDetached} = await import('../../core/node/detach.js');
      // The child inherits cwd and environment, so it resolves the same data dir and flags.
      const argv = ['node', 'start', ...this.argv.filter((a) => a !== '--detach' && a !== '--json')];
      const status = await startDetached({execPath: process.execPath, script: path.join(this.config.root, 'bin', 'run.js'), argv, dataDir, timeoutMs: 10_000});
      this.log(`node ${status.name} (${status.id}) started in the background, pid ${status.pid}, listening on ${status.listen}`);
      return status;
    }
    const {runNodeForeground} = await import('../../core/node/run-node.js');
    const {localCapacity} = await import('../../core/node/capacity.js');
    await runNodeForeground(
      {
        dataDir,
        name: flags.name ?? os.hostname(),
        bindHost: flags.bind,
        port: flags.port,
        ...(flags.advertise ? {advertise: flags.advertise} : {}),
        peers: flags.peer ?? [],
        labels,
        capacity: localCapacity(flags.gpus),
        mdns: flags.mdns,
        ...(flags['join-secret-file'] ? {joinSecretFile: flags['join-secret-file']} : {}),
        ...(flags['trust-file'] ? {trustFile: flags['trust-file']} : {}),
        failureDetector,
        raftBootstrap: flags['raft-bootstrap'] ?? [],
        raft: {tickMs: parseDurationMs(flags['raft-tick'], '--raft-tick'), snapshotEvery: flags['raft-snapshot-every']},
        logLevel: flags['log-level'],
      },
      (node) => {
        if (node.createdJoinSecret) process.stderr.write(`swarm: created a join secret in ${dataDir}/join.secret; other nodes join with --join-secret-file\n`);
        process.stderr.write(`swarm: node ${node.identity.id} (${node.identity.fingerprint}) listening on ${node.transport.listen}\n`);
      },
    );
  }
}
