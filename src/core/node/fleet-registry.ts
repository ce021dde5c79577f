import type {Capacity} from '../transport/hello.js';

/**
 * The fleet registry in the replicated store: one key per node (`fleet` namespace, `nodes/<id>`),
 * written by the node itself through Raft, so every member knows every registered node, including
 * ones it has not seen since it started. Liveness stays with the heartbeats; this is who exists.
 */
export const FLEET_NAMESPACE = 'fleet';

export interface Registration {
  id: string;
  name: string;
  address: string;
  labels: Record<string, string>;
  capacity: Capacity;
  fingerprint: string;
}

export function registrationKey(id: string): string {
  return `nodes/${id}`;
}

/** Stable encoding (fixed key order), so an unchanged registration is recognised and not rewritten. */
export function encodeRegistration(r: Registration): string {
  const labels = Object.fromEntries(Object.entries(r.labels).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({id: r.id, name: r.name, address: r.address, labels, capacity: {cores: r.capacity.cores, memoryBytes: r.capacity.memoryBytes, gpus: r.capacity.gpus}, fingerprint: r.fingerprint});
}

export function decodeRegistration(value: string): Registration | undefined {
  try {
    const o = JSON.parse(value) as Partial<Registration>;
    if (typeof o.id !== 'string' || typeof o.name !== 'string' || typeof o.address !== 'string' || typeof o.fingerprint !== 'string') return undefined;
    if (!o.capacity || typeof o.labels !== 'object' || o.labels === null) return undefined;
    return o as Registration;
  } catch {
    return undefined;
  }
}
