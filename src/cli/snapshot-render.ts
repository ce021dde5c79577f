import type {VerifyReport} from '../core/snapshot/manifest.js';
import {colorState, table} from './render.js';

/** One row per part: its copies and their state (the verify and repair view). */
export function renderVerify(r: VerifyReport): string {
  const rows = r.parts.map((p) => [String(p.index), String(p.good), ...p.copies.map((c) => `${c.name}:${c.status === 'ok' ? colorState('alive').replace('alive', 'ok') : colorState('dead').replace('dead', c.status)}`)]);
  const head = r.healthy ? 'healthy' : r.restorable ? `degraded: parts ${r.degraded.join(', ')}` : `LOST: parts ${r.lost.join(', ')} have no good copy`;
  return `${r.id}: ${head}\n` + table(['PART', 'GOOD', 'COPY 1', 'COPY 2'], rows);
}
