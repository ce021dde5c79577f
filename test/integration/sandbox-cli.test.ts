/**
 * `swarm sandbox run` end to end with the process runner (bubblewrap): exit codes pass through, the
 * sandbox's own stops map to the documented codes, --json carries the result.
 */
import {ProcessRunner} from '../../src/core/sandbox/process-runner.js';
import {cli} from '../helpers/cluster.js';

let ready: {ok: true} | {ok: false; reason: string} = {ok: false, reason: 'not checked'};
beforeAll(async () => {
  ready = await new ProcessRunner().available();
});

function skipped(): boolean {
  if (ready.ok) return false;
  if (process.env.CI) throw new Error(`the process runner must work in CI: ${ready.reason}`);
  console.warn(`skipping sandbox CLI tests: ${ready.reason}`);
  return true;
}

test('the command\'s output and exit code pass through', async () => {
  if (skipped()) return;
  const r = await cli(['sandbox', 'run', '--runner', 'process', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  expect(r.code).toBe(3);
  expect(r.stdout).toBe('out\n');
  expect(r.stderr).toContain('err');
});

test('--json: the result document; the host environment does not leak in', async () => {
  if (skipped()) return;
  const r = await cli(['sandbox', 'run', '--json', '--runner', 'process', '--env', 'GREETING=hi', '--', 'sh', '-c', 'echo $GREETING; echo ${SWARM_LEAK:-none}'], {env: {SWARM_LEAK: 'host-value'}});
  expect(r.code).toBe(0);
  expect(r.json).toMatchObject({runner: 'process', exitCode: 0, status: null, stdout: 'hi\nnone\n'});
});

test('a timeout exits 7, an output flood 5, a bad flag 2', async () => {
  if (skipped()) return;
  expect((await cli(['sandbox', 'run', '--runner', 'process', '--timeout', '500ms', '--', 'sleep', '10'])).code).toBe(7);
  const flood = await cli(['sandbox', 'run', '--runner', 'process', '--max-output', '4k', '--', 'yes']);
  expect(flood.code).toBe(5);
  expect(flood.stdout.length).toBeLessThanOrEqual(4096);
  expect((await cli(['sandbox', 'run', '--memory', 'lots', '--', 'true'])).code).toBe(2);
  expect((await cli(['sandbox', 'run', '--runner', 'process'])).code).toBe(2);
}, 30_000);
