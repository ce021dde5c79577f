import chalk from 'chalk';

/** Colour only on a TTY, and never with NO_COLOR, --no-color or --json. */
export function configureColor(opts: {noColorFlag: boolean; json: boolean}): void {
  const off = opts.noColorFlag || opts.json || 'NO_COLOR' in process.env || !process.stdout.isTTY;
  if (off) chalk.level = 0;
}

const ANSI = /\u001b\[[0-9;]*m/g;
const visibleLength = (s: string): number => s.replace(ANSI, '').length;

/** An aligned plain-text table (kubectl style: upper-case headers, two spaces between columns). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => chalk.bold(h))), ...rows.map(line)].join('\n') + '\n';
}

/** Key/value block for single objects (`node status`). */
export function keyValues(pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${chalk.bold(k.padEnd(w))}  ${v}`).join('\n') + '\n';
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${units[i]}`;
}

export function colorState(state: string): string {
  switch (state) {
    case 'alive':
      return chalk.green(state);
    case 'suspect':
      return chalk.yellow(state);
    case 'dead':
      return chalk.red(state);
    default:
      return chalk.dim(state);
  }
}

export function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}
