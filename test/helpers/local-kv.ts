/**
 * The replicated store's state machine (the real KvStore) applied in-process, in order, without Raft:
 * for testing what sits on top of it (the task store) deterministically.
 */
import {NotFoundError} from '../../src/core/errors.js';
import type {KvCommand, KvEvent, KvRecord, KvResult} from '../../src/core/consensus/kv/kv-store.js';
import {KvStore} from '../../src/core/consensus/kv/kv-store.js';
import type {ReplicatedKv} from '../../src/core/fleet/task-store.js';

export class LocalKv implements ReplicatedKv {
  readonly kv = new KvStore();
  private index = 0;
  private readonly watchers = new Set<{namespace: string; prefix: string; fn: (e: KvEvent) => void}>();
  /** Runs before each write is applied: lets a test interleave another writer. */
  beforeApply?: (cmd: KvCommand) => void;

  async propose(cmd: KvCommand): Promise<KvResult> {
    const hook = this.beforeApply;
    this.beforeApply = undefined;
    hook?.(cmd);
    const {result, event} = this.kv.apply(cmd, ++this.index);
    if (event) for (const w of this.watchers) if (w.namespace === event.namespace && event.key.startsWith(w.prefix)) w.fn(event);
    return result;
  }

  async get(namespace: string, key: string): Promise<KvRecord> {
    const r = this.kv.get(namespace, key);
    if (!r) throw new NotFoundError(`key ${namespace}/${key} not found`);
    return r;
  }

  async list(namespace: string, prefix: string): Promise<KvRecord[]> {
    return this.kv.list(namespace, prefix);
  }

  watch(namespace: string, prefix: string, fn: (e: KvEvent) => void): () => void {
    const w = {namespace, prefix, fn};
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
