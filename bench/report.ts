/** Number and table helpers every benchmark's report shares. */

/** Linear-interpolated quantile of an ascending array; NaN when empty. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** A plain-text table; columns from `rightAlignFrom` on are right-aligned (numbers). */
export function table(header: string[], rows: string[][], rightAlignFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const fmtInt = (n: number | undefined): string => (n !== undefined && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

/** A latency distribution as the benches report it (one unit per bench: ms or us). */
export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}
