import {invalidEnv, newTask, transition} from '../../../src/core/fleet/task.js';
import type {Task, TaskEvent, TaskSpec} from '../../../src/core/fleet/task.js';

const spec = (over: Partial<TaskSpec> = {}): TaskSpec => ({
  command: ['echo', 'hi'],
  priority: 0,
  requires: {cores: 1, memoryBytes: 1, gpus: 0, labels: {}},
  env: {},
  timeoutMs: 1000,
  retries: 1,
  runner: 'process',
  allowEgress: [],
  ...over,
});

function apply(t: Task, ...events: TaskEvent[]): Task {
  let cur = t;
  events.forEach((e, i) => {
    const r = transition(cur, e, 100 + i);
    if (!r.ok) throw new Error(r.reason);
    cur = r.task;
  });
  return cur;
}

describe('task state machine', () => {
  test('pending -> assigned -> running -> succeeded, each change recorded with its reason', () => {
    const t = apply(newTask('t1', 1, spec(), 0), {type: 'assign', node: 'a'}, {type: 'start', node: 'a', attempt: 1}, {type: 'finish', node: 'a', attempt: 1, result: {exitCode: 0, status: null}});
    expect(t.state).toBe('succeeded');
    expect(t.history.map((h) => [h.from, h.to])).toEqual([[null, 'pending'], ['pending', 'assigned'], ['assigned', 'running'], ['running', 'succeeded']]);
    expect(t.history[1]).toMatchObject({reason: 'placed on a', node: 'a', attempt: 1});
  });

  test('a lost node reschedules within the retry budget, then the task stays lost', () => {
    let t = apply(newTask('t', 1, spec({retries: 1}), 0), {type: 'assign', node: 'a'}, {type: 'start', node: 'a', attempt: 1}, {type: 'node-lost', node: 'a'});
    expect(t.state).toBe('pending');
    expect(t.history.slice(-2).map((h) => h.to)).toEqual(['lost', 'pending']);
    t = apply(t, {type: 'assign', node: 'b'}, {type: 'start', node: 'b', attempt: 2}, {type: 'node-lost', node: 'b'});
    expect(t.state).toBe('lost');
  });

  test('a result is recorded exactly once: a "dead" node reporting late is refused', () => {
    let t = apply(newTask('t', 1, spec({retries: 2}), 0), {type: 'assign', node: 'a'}, {type: 'start', node: 'a', attempt: 1}, {type: 'node-lost', node: 'a'}, {type: 'assign', node: 'b'}, {type: 'start', node: 'b', attempt: 2});
    const late = transition(t, {type: 'finish', node: 'a', attempt: 1, result: {exitCode: 0, status: null}}, 500);
    expect(late).toMatchObject({ok: false});
    t = apply(t, {type: 'finish', node: 'b', attempt: 2, result: {exitCode: 0, status: null}});
    expect(t.state).toBe('succeeded');
    expect(transition(t, {type: 'finish', node: 'b', attempt: 2, result: {exitCode: 1, status: null}}, 600)).toMatchObject({ok: false});
  });

  test('failures retry, then fail with the reason; cancel is terminal', () => {
    let t = apply(newTask('t', 1, spec({retries: 1}), 0), {type: 'assign', node: 'a'}, {type: 'finish', node: 'a', attempt: 1, result: {exitCode: null, status: 'timeout'}});
    expect(t.state).toBe('pending');
    t = apply(t, {type: 'assign', node: 'a'}, {type: 'finish', node: 'a', attempt: 2, result: {exitCode: 3, status: null}});
    expect(t).toMatchObject({state: 'failed', result: {exitCode: 3}});
    expect(t.history.at(-1)!.reason).toBe('exit 3');
    const c = apply(newTask('c', 2, spec(), 0), {type: 'cancel', reason: 'operator'});
    expect(c.state).toBe('cancelled');
    expect(transition(c, {type: 'assign', node: 'a'}, 1)).toMatchObject({ok: false});
  });

  test('out-of-order and mismatched events are refused and change nothing', () => {
    const t = newTask('t', 1, spec(), 0);
    expect(transition(t, {type: 'start', node: 'a', attempt: 1}, 1)).toMatchObject({ok: false});
    const assigned = apply(t, {type: 'assign', node: 'a'});
    expect(transition(assigned, {type: 'start', node: 'b', attempt: 1}, 2)).toMatchObject({ok: false});
    expect(transition(assigned, {type: 'assign', node: 'b'}, 2)).toMatchObject({ok: false});
    expect(transition(assigned, {type: 'node-lost', node: 'b'}, 2)).toMatchObject({ok: false});
    expect(apply(assigned, {type: 'unassign', reason: 'teleport to b'}).state).toBe('pending');
  });

  test('secrets travel only as vault references', () => {
    expect(invalidEnv({MODE: 'fast', API_KEY: 'vault:openai'})).toBeUndefined();
    expect(invalidEnv({API_KEY: 'sk-123'})).toMatch(/vault:NAME/);
    expect(invalidEnv({'bad-name': 'x'})).toMatch(/not a valid variable name/);
  });
});

describe('teleport', () => {
  const req = {cores: 1, memoryBytes: 1, gpus: 1, labels: {}};
  test('a pending or assigned task is re-queued with the new constraints; a pin binds the next assignment', () => {
    const assigned = apply(newTask('t', 1, spec(), 0), {type: 'assign', node: 'a'});
    const moved = apply(assigned, {type: 'teleport', pin: 'b', requires: req, reason: 'teleport to b'});
    expect(moved).toMatchObject({state: 'pending', pin: 'b', spec: {requires: req}});
    expect(moved.node).toBeUndefined();
    expect(transition(moved, {type: 'assign', node: 'a'}, 9)).toMatchObject({ok: false, reason: expect.stringMatching(/pinned to b/)});
    expect(apply(moved, {type: 'assign', node: 'b'}).node).toBe('b');
  });

  test('a running task moves only with a checkpoint, and the move does not spend its retry budget', () => {
    const running = apply(newTask('t', 1, spec({retries: 0}), 0), {type: 'assign', node: 'a'}, {type: 'start', node: 'a', attempt: 1});
    expect(transition(running, {type: 'teleport', requires: req, reason: 'x'}, 5)).toMatchObject({ok: false, reason: expect.stringMatching(/checkpointed/)});
    const cp = {node: 'a', attempt: 1, bytes: 10, sha256: 'ab'};
    const moved = apply(running, {type: 'teleport', requires: req, checkpoint: cp, reason: 'teleport requiring gpu'});
    expect(moved).toMatchObject({state: 'pending', checkpoint: cp, failures: 0});
    const done = apply(moved, {type: 'assign', node: 'g'}, {type: 'start', node: 'g', attempt: 2}, {type: 'finish', node: 'g', attempt: 2, result: {exitCode: 0, status: null}});
    expect(done.state).toBe('succeeded');
    // The old attempt's late result is refused.
    expect(transition(moved, {type: 'finish', node: 'a', attempt: 1, result: {exitCode: 0, status: null}}, 9)).toMatchObject({ok: false});
  });

  test('ended tasks do not move', () => {
    const c = apply(newTask('c', 2, spec(), 0), {type: 'cancel', reason: 'operator'});
    expect(transition(c, {type: 'teleport', requires: req, reason: 'x'}, 1)).toMatchObject({ok: false});
  });
});
