import {encodeConfChange} from './conf-change.js';
import type {Entry, NodeId, WritableRaftStorage} from './types.js';

/**
 * Writes the initial membership into an empty log as committed conf entries at term 1 (as etcd does),
 * so that every member, and any node that joins later and replays the log, learns the same voters.
 * Every bootstrapping member must call it with the same voters; it sorts them so the entries match.
 */
export function bootstrapLog(storage: WritableRaftStorage, voters: NodeId[]): void {
  if (storage.lastIndex() > 0 || storage.initialState().hardState.term > 0) return;
  const sorted = [...new Set(voters)].sort();
  const entries: Entry[] = sorted.map((node, i) => ({term: 1, index: i + 1, type: 'conf', data: encodeConfChange({op: 'add-voter', node})}));
  storage.append(entries);
  storage.setHardState({term: 1, vote: '', commit: entries.length});
}

export function isEmptyLog(storage: WritableRaftStorage): boolean {
  return storage.lastIndex() === 0 && storage.initialState().hardState.term === 0 && storage.snapshot().meta.index === 0;
}
