import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {UsageError} from '../errors.js';

/**
 * Where a node keeps its identity, join secret, control socket and logs.
 * Precedence: explicit value (flag or SWARM_DATA_DIR, resolved by the command layer) >
 * $XDG_DATA_HOME/swarm > ~/.local/share/swarm.
 */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit && explicit.trim() !== '') return path.resolve(explicit);
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'swarm');
  return path.join(os.homedir(), '.local', 'share', 'swarm');
}

/** Creates the data dir (0700) if missing; refuses a path that exists and is not a directory. */
export function ensureDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, {recursive: true, mode: 0o700});
  } catch (err) {
    throw new UsageError(`cannot create data dir ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}; pass --data-dir`);
  }
  if (!fs.statSync(dir).isDirectory()) throw new UsageError(`data dir ${dir} is not a directory; pass --data-dir`);
}

/** Well-known file names inside a data dir; one place so node and client agree. */
export const DataFiles = {
  identityKey: 'identity.key',
  joinSecret: 'join.secret',
  controlSocket: 'control.sock',
  pid: 'node.pid',
  log: 'node.log',
  audit: 'audit.log',
  operatorKey: 'operator.key',
  vault: 'vault.json',
} as const;

export function dataFile(dir: string, name: keyof typeof DataFiles): string {
  return path.join(dir, DataFiles[name]);
}
