/**
 * Child process for netns tests: runs one MdnsDiscovery in whatever network namespace it was started in
 * (`ip netns exec <ns> node dist/test/helpers/netns-child.js '<init json>'`) and prints one JSON line per
 * event on stdout. SIGTERM (or the parent going away, seen as stdin closing) stops it gracefully, so the
 * goodbye is sent, then it prints {"event":"stopped","stats":...} and exits 0.
 */
import {MdnsDiscovery} from '../../src/core/transport/mdns-discovery.js';
import type {MdnsDiscoveryInit} from '../../src/core/transport/mdns-discovery.js';

/** What the parent passes: the discovery's own init, minus the callbacks this child supplies. */
export type ChildInit = Omit<MdnsDiscoveryInit, 'onPeer' | 'onGoodbye' | 'onError'>;

function emit(event: string, data: object = {}): void {
  process.stdout.write(`${JSON.stringify({event, ...data})}\n`);
}

const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
const disc = new MdnsDiscovery({
  ...init,
  onPeer: (peer) => emit('peer', {peer}),
  onGoodbye: (id) => emit('goodbye', {id}),
  onError: (err) => emit('error', {message: err.message}),
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await disc.stop();
  emit('stopped', {stats: disc.stats});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.resume();

disc.start().then(
  () => emit('ready'),
  (err: unknown) => {
    emit('error', {message: err instanceof Error ? err.message : String(err)});
    process.exit(1);
  },
);
