import type {NodeClient} from '../core/client/attach.js';
import {TERMINAL} from '../core/fleet/task.js';
import type {Task} from '../core/fleet/task.js';
import {ExitCode} from '../core/errors.js';
import {sandboxExitCode} from './flags.js';
import {nodeNamer} from './task-render.js';

const POLL_MS = 250;

/** A task that will not change again by itself (lost = out of retries). */
export const isFinal = (t: Task): boolean => TERMINAL.has(t.state) || t.state === 'lost';

/** What `--wait` exits with: the command's own code, or why it did not run to its end. */
export function taskExitCode(t: Task): number {
  if (t.state === 'succeeded') return ExitCode.Ok;
  if (t.state === 'failed' && t.result) return sandboxExitCode(t.result.status, t.result.exitCode);
  return ExitCode.Refused;
}

/**
 * Follows a task until `until` holds (default: it is final), printing each state change as a line on
 * stderr (or a JSON line on stdout with --json) and, with `logs`, its output as it is written, attempt
 * after attempt. Polls the node: output lives on the node that ran the attempt.
 */
export async function followTask(c: NodeClient, id: string, opts: {json: boolean; logs: boolean; quiet?: boolean; since?: number; until?: (t: Task) => boolean}): Promise<Task> {
  const name = await nodeNamer(c);
  const until = opts.until ?? isFinal;
  const offsets = new Map<string, number>();
  let lastChange = opts.since ?? 0;
  let attemptShown = 0;
  for (;;) {
    const t = await c.call('task.get', {id});
    if (t.history.length !== lastChange && !opts.quiet) {
      for (const h of t.history.slice(lastChange)) {
        const line = `${h.from ?? '-'} -> ${h.to}${h.node ? ` on ${name(h.node)}` : ''} (attempt ${h.attempt}): ${h.reason}`;
        if (opts.json) process.stdout.write(JSON.stringify({id: t.id, ...h}) + '\n');
        else process.stderr.write(`${t.id}: ${line}\n`);
      }
    }
    lastChange = t.history.length;
    if (opts.logs) {
      for (let a = Math.max(1, attemptShown); a <= t.attempt; a++) {
        for (const stream of ['stdout', 'stderr'] as const) {
          const key = `${a}/${stream}`;
          for (;;) {
            const r = await c.call('task.logs', {id, attempt: a, stream, offset: offsets.get(key) ?? 0});
            if (r.text === '') break;
            if (a !== attemptShown && attemptShown !== 0) process.stderr.write(`--- attempt ${a}${r.node ? ` on ${name(r.node)}` : ''} ---\n`);
            attemptShown = a;
            (stream === 'stdout' ? process.stdout : process.stderr).write(r.text);
            offsets.set(key, r.offset);
          }
        }
      }
      attemptShown = Math.max(attemptShown, 1);
    }
    if (until(t)) return t;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

