import {createLogger} from '../log/logger.js';
import type {Level} from '../log/logger.js';
import {SwarmNode} from './node.js';
import type {NodeOptions} from './node.js';

/** Longest a graceful stop may take before the process exits anyway (the 2 s budget, minus margin). */
const STOP_BUDGET_MS = 1800;

/**
 * Runs a node in the foreground until SIGINT/SIGTERM or a control `stop`: graceful stop within
 * the budget, exit 0; a second signal exits at once. Resolves with the started node (for the banner).
 */
export async function runNodeForeground(opts: NodeOptions & {logLevel: Level}, banner: (node: SwarmNode) => void): Promise<void> {
  const log = createLogger({write: (l) => process.stderr.write(l)}, {level: opts.logLevel, component: 'node'});
  const node = new SwarmNode({log}, opts);
  let signalled = 0;
  const finish = (): void => {
    const hard = setTimeout(() => process.exit(0), STOP_BUDGET_MS);
    hard.unref();
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    signalled++;
    if (signalled > 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    log.info('signal received, stopping', {signal: sig});
    finish();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  node.onStop(() => {
    if (signalled === 0) {
      signalled = 1;
      finish();
    }
  });
  await node.start();
  banner(node);
  // Keep running: the transport's sockets and timers hold the event loop until stop() exits the process.
  await new Promise<never>(() => {});
}
