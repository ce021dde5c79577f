import {UsageError} from '../errors.js';

const UNIT_MS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000};

/**
 * Parses an operator duration ("250ms", "2s", "1.5m", or a bare number of milliseconds).
 * Throws UsageError naming `what` (the flag) so the message says what to fix.
 */
export function parseDurationMs(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a duration; use e.g. 500ms, 2s, 1m`);
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  if (!Number.isFinite(ms) || ms <= 0 || ms > 86_400_000) {
    throw new UsageError(`${what}: "${text}" must be between 1ms and 24h`);
  }
  return Math.round(ms);
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}
