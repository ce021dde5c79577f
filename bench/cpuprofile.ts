/** Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per code area. */
import * as fs from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: {functionName: string; url: string; lineNumber: number};
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of non-idle time per code area, in %. */
  areas: {area: string; pct: number}[];
  top: {fn: string; where: string; pct: number}[];
}

/** Which part of the stack a frame belongs to (by script url / V8 pseudo-frame name). */
function areaOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'native (program: libzmq/openssl/libuv)';
  if (fn === '(idle)') return 'idle';
  const rules: [RegExp, string][] = [
    [/core\/transport\/voyager\.js/, 'voyager.ts'],
    [/core\/transport\/socket-sender\.js/, 'socket-sender.ts'],
    [/core\/transport\/frame\.js/, 'frame.ts'],
    [/core\/transport\/envelope\.js/, 'envelope.ts'],
    [/core\/security\/noise\//, 'noise cipher-state.ts'],
    [/core\/security\/(session|replay-window)\.js/, 'session/replay-window.ts'],
    [/core\/security\/(firewall|rate-limiter)\.js/, 'firewall/rate-limiter.ts'],
    [/msgpackr/, 'msgpackr'],
    [/zeromq/, 'zeromq (JS + native calls)'],
    [/node:internal\/crypto|^crypto$/, 'node:crypto (JS glue)'],
    [/node:internal\/(buffer|bootstrap|per_context)|^buffer$/, 'node:buffer'],
    [/node:internal\/(process\/task_queues|timers|async_hooks)/, 'node: promises/timers'],
    [/bench\//, 'bench driver'],
  ];
  for (const [re, name] of rules) if (re.test(url)) return name;
  if (url === '') return `native builtin`;
  return 'other JS';
}

export function summariseProfile(file: string, topN = 12): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const areas = new Map<string, number>();
  const fns = new Map<string, {fn: string; where: string; us: number}>();
  let busy = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const {functionName, url, lineNumber} = byId.get(id)!.callFrame;
    total += us;
    const area = areaOf(functionName, url);
    if (area === 'idle') continue;
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '')}:${lineNumber + 1}` : '(native)';
    const key = `${functionName}@${where}`;
    const f = fns.get(key) ?? {fn: functionName || '(anonymous)', where, us: 0};
    f.us += us;
    fns.set(key, f);
  }
  const pct = (us: number): number => Math.round((1000 * us) / Math.max(1, busy)) / 10;
  return {
    file,
    totalMs: Math.round(total / 1000),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({area, pct: pct(us)})),
    top: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((f) => ({fn: f.fn, where: f.where, pct: pct(f.us)})),
  };
}
