/**
 * Start-up view of a `node --cpu-prof` profile for the fleet bench: where a short CLI run's CPU went,
 * per npm package (inclusive: a sample counts once for every package on its stack, so a package's
 * figure includes the modules it loads) and per function (self time).
 */
import * as fs from 'node:fs';

import type {Profile} from './cpuprofile.js';

export interface StartupProfile {
  file: string;
  /** Sampled wall time, ms (idle included). */
  totalMs: number;
  idleMs: number;
  gcMs: number;
  /** Inclusive ms per package ("dist/<file>" for the project's own modules, "node:internal" for node's). */
  packages: {name: string; ms: number}[];
  /** Self ms per function. */
  functions: {fn: string; where: string; ms: number}[];
}

/** The package a script belongs to: the innermost node_modules package, the project file, or node's internals. */
function packageOf(url: string): string | undefined {
  if (!url) return undefined;
  const pkgs = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  if (pkgs.length > 0) return pkgs[pkgs.length - 1]![1];
  if (url.startsWith('node:')) return 'node:internal (module loader, fs, ...)';
  const own = /\/(dist\/.*|bin\/.*)$/.exec(url);
  return own ? own[1] : url;
}

const ms = (us: number): number => Math.round(us / 100) / 10;

export function summariseStartup(file: string, top = 12): StartupProfile {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));

  let total = 0;
  let idle = 0;
  let gc = 0;
  const inclusive = new Map<string, number>();
  const fns = new Map<string, {fn: string; where: string; us: number}>();
  for (const [id, us] of selfUs) {
    total += us;
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    if (frame.functionName === '(garbage collector)') gc += us;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const pkg = packageOf(byId.get(cur)!.callFrame.url);
      if (pkg && !seen.has(pkg)) {
        seen.add(pkg);
        inclusive.set(pkg, (inclusive.get(pkg) ?? 0) + us);
      }
    }
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '')}:${frame.lineNumber + 1}` : '(native)';
    const key = `${frame.functionName}@${where}`;
    const f = fns.get(key) ?? {fn: frame.functionName || '(anonymous)', where, us: 0};
    f.us += us;
    fns.set(key, f);
  }
  return {
    file,
    totalMs: ms(total),
    idleMs: ms(idle),
    gcMs: ms(gc),
    packages: [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({name, ms: ms(us)})),
    functions: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top).map((f) => ({fn: f.fn, where: f.where, ms: ms(f.us)})),
  };
}
