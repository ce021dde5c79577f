import {UsageError} from '../errors.js';
import type {ControlMethod, ControlParams} from './control-types.js';

type Spec = Record<string, 'string' | 'string?' | 'number?' | 'boolean?' | 'object' | 'strings?'>;

const SPECS: Record<ControlMethod, Spec> = {
  status: {},
  fleet: {},
  stop: {},
  'consensus.status': {local: 'boolean?'},
  'consensus.transfer': {to: 'string?'},
  'fleet.join': {node: 'string', learner: 'boolean?'},
  'fleet.remove': {node: 'string'},
  'kv.get': {namespace: 'string', key: 'string', serializable: 'boolean?'},
  'kv.put': {namespace: 'string', key: 'string', value: 'string', ifVersion: 'number?'},
  'kv.del': {namespace: 'string', key: 'string', ifVersion: 'number?'},
  'kv.list': {namespace: 'string', prefix: 'string', serializable: 'boolean?'},
  'task.submit': {spec: 'object'},
  'task.list': {},
  'task.get': {id: 'string'},
  'task.cancel': {id: 'string'},
  'task.teleport': {id: 'string', to: 'string?', require: 'strings?'},
  'task.logs': {id: 'string', attempt: 'number?', stream: 'string?', offset: 'number?'},
  'vault.status': {},
  'vault.init': {passphrase: 'string', hint: 'string?', kdfN: 'number?'},
  'vault.unlock': {passphrase: 'string', timeoutMs: 'number?'},
  'vault.lock': {},
  'vault.list': {},
  'vault.get': {name: 'string'},
  'vault.set': {name: 'string', value: 'string'},
  'vault.rm': {name: 'string'},
  'vault.rotate': {},
  'snapshot.create': {parts: 'number?', label: 'string?', include: 'strings?'},
  'snapshot.list': {},
  'snapshot.verify': {id: 'string'},
  'snapshot.repair': {id: 'string'},
  'snapshot.rm': {id: 'string'},
  'snapshot.restore': {id: 'string', to: 'string?'},
  'snapshot.progress': {id: 'string'},
};

/**
 * Checks a control call's parameters (from the socket or a remote operator) against the method's
 * shape; a UsageError (exit 2) names the bad field. Unknown fields are refused too.
 */
export function controlParams<M extends ControlMethod>(method: M, raw: unknown): ControlParams<M> {
  const spec = SPECS[method];
  if (Object.keys(spec).length === 0) return null as ControlParams<M>;
  // A method whose parameters are all optional may be called without any.
  if ((raw === null || raw === undefined) && Object.values(spec).every((t) => t.endsWith('?'))) return {} as ControlParams<M>;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${method}: parameters missing`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in spec)) throw new UsageError(`${method}: unknown parameter ${k}`);
  for (const [k, t] of Object.entries(spec)) {
    const v = o[k];
    const optional = t.endsWith('?');
    if (v === undefined || v === null) {
      if (!optional) throw new UsageError(`${method}: ${k} is required`);
      continue;
    }
    const base = t.replace('?', '');
    if (base === 'strings') {
      if (!Array.isArray(v) || v.length > 64 || v.some((x) => typeof x !== 'string' || x.length > 1024)) throw new UsageError(`${method}: ${k} must be a list of strings`);
      continue;
    }
    if (base === 'object') {
      if (typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${method}: ${k} must be an object`);
      continue;
    }
    if (typeof v !== base) throw new UsageError(`${method}: ${k} must be a ${base}`);
    if (base === 'string' && (v as string).length > 1024 * 1024) throw new UsageError(`${method}: ${k} too long`);
  }
  return o as ControlParams<M>;
}
