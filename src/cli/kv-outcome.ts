import {ConflictError, NotFoundError} from '../core/errors.js';
import type {KvResult} from '../core/consensus/kv/kv-store.js';

/** A refused conditional write is a conflict (exit 6); deleting a missing key is not found (exit 3). */
export function kvOutcome(r: KvResult, what: string): void {
  if (r.ok) return;
  if (r.reason === 'not_found') throw new NotFoundError(`${what} not found`);
  throw new ConflictError(`${what} is at version ${r.currentVersion}; the write was not applied`);
}
