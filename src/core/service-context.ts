import type {ReplicatedKv} from './fleet/task-store.js';
import type {Logger} from './log/logger.js';
import type {Voyager} from './transport/voyager.js';

/** What every node service (fleet, snapshots) is built on: the node's own id, files, state and links. */
export interface ServiceContext {
  kv: ReplicatedKv;
  transport: Voyager;
  log: Logger;
  clock: () => number;
  /** This node's id. */
  self: string;
  dataDir: string;
}
