import {UsageError} from '../errors.js';

const UNIT: Record<string, number> = {'': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3};

/** Parses an operator size ("512m", "1g", "64KiB", "4096"); a UsageError names the flag. */
export function parseSizeBytes(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?i?b?)$/i.exec(text.trim());
  const unit = m ? m[2]!.toLowerCase().replace('i', '') : undefined;
  if (!m || unit === undefined || !(unit in UNIT)) throw new UsageError(`${what}: "${text}" is not a size; use e.g. 64m, 1g`);
  const n = Math.floor(Number(m[1]) * UNIT[unit]!);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${what}: "${text}" must be a positive size`);
  return n;
}
