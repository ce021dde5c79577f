import {TaskStore, TransitionRefusedError} from '../../../src/core/fleet/task-store.js';
import {transition} from '../../../src/core/fleet/task.js';
import type {TaskSpec} from '../../../src/core/fleet/task.js';
import {LocalKv} from '../../helpers/local-kv.js';

const spec: TaskSpec = {command: ['true'], priority: 0, requires: {cores: 1, memoryBytes: 1, gpus: 0, labels: {}}, env: {}, timeoutMs: 1000, retries: 1, runner: 'process', allowEgress: []};

describe('task store (CAS over the replicated KV state machine)', () => {
  test('submission order is commit order; ids resolve by unique prefix', async () => {
    const kv = new LocalKv();
    const store = new TaskStore(kv);
    const a = await store.submit(spec, 1);
    const b = await store.submit(spec, 2);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect((await store.list()).map((t) => t.id)).toEqual([a.id, b.id]);
    expect(await store.resolve(a.id.slice(0, 6))).toBe(a.id);
    await expect(store.resolve('zz')).rejects.toThrow(/expected hex/);
  });

  test('a concurrent writer makes the CAS fail; the change is re-applied on the fresh state', async () => {
    const kv = new LocalKv();
    const store = new TaskStore(kv);
    const t = await store.submit(spec, 1);
    // The operator cancels between the placement loop's read and its write.
    const cancelled = transition(t, {type: 'cancel', reason: 'operator'}, 5);
    if (!cancelled.ok) throw new Error(cancelled.reason);
    kv.beforeApply = () => void kv.propose({op: 'put', namespace: 'tasks', key: `t/${t.id}`, value: JSON.stringify(cancelled.task)});
    await expect(store.mutate(t.id, (x) => transition(x, {type: 'assign', node: 'a'}, 6))).rejects.toBeInstanceOf(TransitionRefusedError);
    expect((await store.get(t.id)).state).toBe('cancelled');
  });

  test('exactly once: the result of an attempt the leader declared lost is refused and changes nothing', async () => {
    const store = new TaskStore(new LocalKv());
    const {id} = await store.submit(spec, 1);
    const step = (e: Parameters<typeof transition>[1]) => store.mutate(id, (x) => transition(x, e, 10));
    await step({type: 'assign', node: 'a'});
    await step({type: 'start', node: 'a', attempt: 1});
    await step({type: 'node-lost', node: 'a'});
    await step({type: 'assign', node: 'b'});
    await step({type: 'start', node: 'b', attempt: 2});
    await step({type: 'finish', node: 'b', attempt: 2, result: {exitCode: 0, status: null}});
    const before = await store.get(id);
    await expect(step({type: 'finish', node: 'a', attempt: 1, result: {exitCode: 1, status: null}})).rejects.toThrow(/already succeeded/);
    expect(await store.get(id)).toEqual(before);
    expect(before.history.filter((h) => h.to === 'succeeded')).toHaveLength(1);
  });
});
