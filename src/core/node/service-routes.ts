import {UsageError} from '../errors.js';
import type {FleetService} from '../fleet/fleet-service.js';
import type {SnapshotService} from '../snapshot/snapshot-service.js';
import type {VaultService} from '../vault/vault-service.js';
import type {ControlMethod} from './control-types.js';

/**
 * The control methods each service answers, by name. Parameters arrive already checked against
 * their shapes (control-params.ts); what is left here is the service's own range checks.
 */
type Params = Record<string, unknown>;
export type Routes = Partial<Record<ControlMethod, (p: Params) => unknown>>;

const str = (p: Params, k: string): string => p[k] as string;
const opt = <T>(p: Params, k: string): T | undefined => p[k] as T | undefined;

export function taskRoutes(f: FleetService): Routes {
  return {
    'task.submit': (p) => f.submit(p.spec),
    'task.list': () => f.list(),
    'task.get': (p) => f.get(str(p, 'id')),
    'task.cancel': (p) => f.cancel(str(p, 'id')),
    'task.teleport': (p) => f.teleport(str(p, 'id'), opt<string>(p, 'to'), opt<string[]>(p, 'require') ?? []),
    'task.logs': (p) => {
      const stream = opt<string>(p, 'stream') ?? 'stdout';
      if (stream !== 'stdout' && stream !== 'stderr') throw new UsageError('task.logs: stream must be stdout or stderr');
      const attempt = opt<number>(p, 'attempt');
      return f.logs(str(p, 'id'), {stream, offset: opt<number>(p, 'offset') ?? 0, ...(attempt !== undefined ? {attempt} : {})});
    },
  };
}

/** `before` runs first on every call (the node moves a file vault into the cluster there). */
export function vaultRoutes(v: VaultService, before: () => Promise<unknown>): Routes {
  const r: Routes = {
    'vault.status': () => v.status(),
    'vault.init': (p) => {
      const hint = opt<string>(p, 'hint');
      const kdfN = opt<number>(p, 'kdfN');
      return v.init(str(p, 'passphrase'), {...(hint ? {hint} : {}), ...(kdfN ? {kdfN} : {})});
    },
    'vault.unlock': (p) => v.unlock(str(p, 'passphrase'), opt<number>(p, 'timeoutMs')),
    'vault.lock': () => {
      v.lock();
      return v.status();
    },
    'vault.list': () => v.list(),
    'vault.get': async (p) => ({name: str(p, 'name'), value: await v.get(str(p, 'name'))}),
    'vault.set': (p) => v.set(str(p, 'name'), str(p, 'value')),
    'vault.rm': (p) => v.remove(str(p, 'name')),
    'vault.rotate': () => v.rotate(),
  };
  const wrapped: Routes = {};
  for (const [m, fn] of Object.entries(r) as [ControlMethod, (p: Params) => unknown][]) {
    wrapped[m] = async (p) => {
      await before();
      return fn(p);
    };
  }
  return wrapped;
}

export function snapshotRoutes(s: SnapshotService): Routes {
  return {
    'snapshot.create': (p) => {
      const parts = opt<number>(p, 'parts') ?? 4;
      if (!Number.isSafeInteger(parts) || parts < 1 || parts > 1024) throw new UsageError('--parts must be 1-1024');
      const label = opt<string>(p, 'label');
      return s.create({parts, ...(label ? {label} : {}), include: opt<string[]>(p, 'include') ?? []});
    },
    'snapshot.list': () => s.list(),
    'snapshot.verify': (p) => s.verify(str(p, 'id')),
    'snapshot.repair': (p) => s.repair(str(p, 'id')),
    'snapshot.rm': (p) => s.remove(str(p, 'id')),
    'snapshot.restore': (p) => s.restore(str(p, 'id'), opt<string>(p, 'to')),
    'snapshot.progress': (p) => s.progressOf(str(p, 'id')) ?? null,
  };
}
