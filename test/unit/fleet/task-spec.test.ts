import {validateTaskSpec} from '../../../src/core/fleet/task-spec.js';
import {nodeOffers, pendingOf} from '../../../src/core/fleet/offers.js';
import {newTask, transition} from '../../../src/core/fleet/task.js';

describe('task spec validation', () => {
  test('defaults are filled in', () => {
    expect(validateTaskSpec({command: ['echo'], timeoutMs: 1000})).toEqual({
      command: ['echo'], priority: 0, requires: {cores: 1, memoryBytes: 256 * 1024 * 1024, gpus: 0, labels: {}}, env: {}, timeoutMs: 1000, retries: 0, runner: 'auto', allowEgress: [],
    });
  });

  test.each([
    [{command: [], timeoutMs: 1}, /command/],
    [{command: ['x'], timeoutMs: 0}, /timeoutMs/],
    [{command: ['x'], timeoutMs: 1, runner: 'docker'}, /needs an image/],
    [{command: ['x'], timeoutMs: 1, requires: {gpus: 0.5}}, /whole number/],
    [{command: ['x'], timeoutMs: 1, env: {OPENAI_API_KEY: 'sk-live'}}, /vault:NAME/],
    [{command: ['x'], timeoutMs: 1, allowEgress: ['example.com']}, /host:port/],
    [{command: ['x'], timeoutMs: 1, evil: true}, /unknown field evil/],
  ])('%j is refused', (spec, why) => {
    expect(() => validateTaskSpec(spec)).toThrow(why);
  });
});

describe('scheduler input from the replicated state', () => {
  test('free capacity is declared capacity minus what assigned and running tasks hold', () => {
    const spec = validateTaskSpec({command: ['x'], timeoutMs: 1, requires: {cores: 1.5, memoryBytes: 100, gpus: 1}});
    const a = transition(newTask('a', 1, spec, 0), {type: 'assign', node: 'n1'}, 1);
    const b = newTask('b', 2, spec, 0);
    if (!a.ok) throw new Error(a.reason);
    const offers = nodeOffers([{id: 'n1', capacity: {cores: 4, memoryBytes: 1000, gpus: 1}, labels: {}}], [a.task, b]);
    expect(offers[0]!.free).toEqual({cores: 2.5, memoryBytes: 900, gpus: 0});
    expect(pendingOf([a.task, b]).map((p) => p.id)).toEqual(['b']);
  });
});
