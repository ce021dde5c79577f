import type {NodeClient} from '../core/client/attach.js';
import {formatDurationMs} from '../core/config/duration.js';
import type {Task} from '../core/fleet/task.js';
import {colorState, formatBytes, formatLabels, keyValues, table} from './render.js';

/** How `task list` and `task status` show tasks (kubectl style). */
export function taskTable(tasks: readonly Task[], nodeName: (id: string) => string, now: number): string {
  const rows = tasks.map((t) => [
    t.id,
    colorState(t.state),
    t.node ? nodeName(t.node) : '-',
    String(t.attempt),
    String(t.spec.priority),
    `${formatDurationMs(Math.max(0, now - t.history[0]!.at))}`,
    shortCommand(t.spec.command),
    t.state === 'pending' && t.pendingReason ? t.pendingReason : (t.history.at(-1)?.reason ?? ''),
  ]);
  return table(['ID', 'STATE', 'NODE', 'ATTEMPT', 'PRIORITY', 'AGE', 'COMMAND', 'REASON'], rows);
}

export function taskDetail(t: Task, nodeName: (id: string) => string): string {
  const r = t.spec.requires;
  const pairs: [string, string][] = [
    ['ID', t.id],
    ['State', colorState(t.state) + (t.pendingReason ? ` (${t.pendingReason})` : '')],
    ['Node', t.node ? nodeName(t.node) : '-'],
    ['Attempt', `${t.attempt} (${t.failures}/${t.spec.retries} retries used)`],
    ['Command', t.spec.command.join(' ')],
    ['Image', t.spec.image ?? '-'],
    ['Runner', t.spec.runner],
    ['Priority', String(t.spec.priority)],
    ['Requires', `cores ${r.cores}, memory ${formatBytes(r.memoryBytes)}, gpus ${r.gpus}, labels ${formatLabels(r.labels)}`],
    ['Pinned to', t.pin ? nodeName(t.pin) : '-'],
    ['Egress', t.spec.allowEgress.length ? t.spec.allowEgress.join(', ') : 'none'],
    ['Timeout', formatDurationMs(t.spec.timeoutMs)],
  ];
  if (t.result) pairs.push(['Result', t.result.status ? `${t.result.status}${t.result.detail ? ` (${t.result.detail})` : ''}` : `exit ${t.result.exitCode}`]);
  if (t.result?.screen) pairs.push(['Output screen', `${t.result.screen.verdict} (${t.result.screen.rules.join(', ')})`]);
  if (t.checkpoint) pairs.push(['Checkpoint', `${formatBytes(t.checkpoint.bytes)} on ${nodeName(t.checkpoint.node)} (attempt ${t.checkpoint.attempt})`]);
  const history = table(
    ['TIME', 'FROM', 'TO', 'NODE', 'ATTEMPT', 'REASON'],
    t.history.map((h) => [new Date(h.at).toISOString(), h.from ?? '-', h.to, h.node ? nodeName(h.node) : '-', String(h.attempt), h.reason]),
  );
  return keyValues(pairs) + '\nHistory:\n' + history;
}

function shortCommand(cmd: string[]): string {
  const s = cmd.join(' ');
  return s.length > 40 ? s.slice(0, 39) + '…' : s;
}

/** Node ids to names, from the fleet view of the attached node (ids it does not know stay ids). */
export async function nodeNamer(client: NodeClient): Promise<(id: string) => string> {
  const fleet = await client.call('fleet', null);
  const names = new Map(fleet.members.map((m) => [m.id, m.name]));
  return (id) => names.get(id) ?? id.slice(0, 12);
}
