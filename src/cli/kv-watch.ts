import type {NodeClient} from '../core/client/attach.js';
import type {KvEvent} from '../core/consensus/kv/kv-store.js';

/**
 * Follows changes under a key prefix until interrupted: one JSON line per change when piped or with
 * --json, a readable line on a terminal (etcdctl watch style). `exact` limits it to one key.
 */
export async function followKv(client: NodeClient, opts: {namespace: string; prefix: string; exact?: string; json: boolean}): Promise<void> {
  const human = process.stdout.isTTY && !opts.json;
  await client.watch({namespace: opts.namespace, prefix: opts.prefix}, (e: KvEvent) => {
    if (opts.exact !== undefined && e.key !== opts.exact) return;
    if (!human) process.stdout.write(JSON.stringify(e) + '\n');
    else process.stdout.write(e.type === 'put' ? `PUT ${e.key} ${e.value} (revision ${e.revision})\n` : `DEL ${e.key} (revision ${e.revision})\n`);
  });
}
