/**
 * The labelled corpus (test/fixtures/sanitizer/*.jsonl): every case through sanitize(), "block or
 * redact" counted as positive. Prints precision and recall overall and per file, plus exact-verdict
 * agreement and the cases it gets wrong, and fails below precision 0.95 or recall 0.90.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import {sanitize} from '../../../src/core/security/sanitizer/index.js';
import type {Direction, Verdict} from '../../../src/core/security/sanitizer/index.js';

interface Case {
  id: string;
  text?: string;
  json?: unknown;
  direction: Direction;
  label: Verdict;
  why: string;
  secrets?: string[];
}

const DIR = path.join(process.cwd(), 'test', 'fixtures', 'sanitizer');
const MIN_PRECISION = 0.95;
const MIN_RECALL = 0.9;

function load(): Map<string, Case[]> {
  const byFile = new Map<string, Case[]>();
  for (const f of fs.readdirSync(DIR).filter((n) => n.endsWith('.jsonl')).sort()) {
    const cases = fs
      .readFileSync(path.join(DIR, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Case);
    byFile.set(f.replace(/\.jsonl$/, ''), cases);
  }
  return byFile;
}

interface Tally {
  n: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  exact: number;
}

const ratio = (a: number, b: number): string => (b === 0 ? '-' : (a / b).toFixed(3));

describe('sanitizer corpus', () => {
  const byFile = load();
  const rows: [string, Tally][] = [];
  const total: Tally = {n: 0, tp: 0, fp: 0, fn: 0, tn: 0, exact: 0};
  const misses: string[] = [];

  for (const [file, cases] of byFile) {
    const t: Tally = {n: 0, tp: 0, fp: 0, fn: 0, tn: 0, exact: 0};
    for (const c of cases) {
      const secrets = c.secrets;
      const r = sanitize(c.text ?? c.json, {direction: c.direction, ...(secrets ? {secrets: {values: () => secrets}} : {})});
      const expected = c.label !== 'allow';
      const got = r.verdict !== 'allow';
      t.n++;
      if (r.verdict === c.label) t.exact++;
      if (expected && got) t.tp++;
      else if (!expected && got) t.fp++;
      else if (expected && !got) t.fn++;
      else t.tn++;
      if (expected !== got || r.verdict !== c.label) {
        const top = r.findings.filter((f) => f.action !== 'allow').map((f) => f.rule);
        misses.push(`${expected !== got ? (got ? 'FP' : 'FN') : '~ '} ${c.id} want ${c.label} got ${r.verdict}${top.length ? ` [${[...new Set(top)].join(', ')}]` : ''} — ${c.why}`);
      }
    }
    rows.push([file, t]);
    for (const k of Object.keys(total) as (keyof Tally)[]) total[k] += t[k];
  }

  test('precision and recall meet the bar', () => {
    const fmt = (name: string, t: Tally): string =>
      [name.padEnd(12), String(t.n).padStart(4), String(t.tp).padStart(4), String(t.fp).padStart(4), String(t.fn).padStart(4), String(t.tn).padStart(4), ratio(t.tp, t.tp + t.fp).padStart(9), ratio(t.tp, t.tp + t.fn).padStart(7), ratio(t.exact, t.n).padStart(6)].join(' ');
    const lines = [
      ['file'.padEnd(12), 'n'.padStart(4), 'tp'.padStart(4), 'fp'.padStart(4), 'fn'.padStart(4), 'tn'.padStart(4), 'precision'.padStart(9), 'recall'.padStart(7), 'exact'.padStart(6)].join(' '),
      ...rows.map(([f, t]) => fmt(f, t)),
      fmt('ALL', total),
      '',
      'misclassified (FP/FN) and right-class-wrong-action (~):',
      ...misses,
    ];
    process.stdout.write('\n' + lines.join('\n') + '\n');
    expect(total.n).toBeGreaterThanOrEqual(300);
    expect(total.tp / (total.tp + total.fp)).toBeGreaterThanOrEqual(MIN_PRECISION);
    expect(total.tp / (total.tp + total.fn)).toBeGreaterThanOrEqual(MIN_RECALL);
  });
});
