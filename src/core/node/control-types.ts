import type {DropCounters} from '../security/firewall.js';
import type {Capacity} from '../transport/hello.js';
import type {TransportStats} from '../transport/voyager.js';
import type {ConsensusStatus} from '../consensus/raft/driver.js';
import type {KvRecord, KvResult} from '../consensus/kv/kv-store.js';
import type {FailureDetectorConfig, MemberState} from './membership.js';
import type {Task} from '../fleet/task.js';
import type {TaskLogs, TeleportResult} from '../fleet/fleet-service.js';
import type {ExecutorStats} from '../fleet/task-executor.js';
import type {VaultStatus} from '../vault/vault-service.js';
import type {EntryInfo} from '../vault/vault.js';
import type {SnapshotManifest, VerifyReport} from '../snapshot/manifest.js';
import type {Progress} from '../snapshot/snapshot-service.js';

/**
 * The control API a running node answers, over its Unix socket or an authenticated remote link.
 * These types are the `--json` output of the commands that show them: field names are stable.
 */
export interface NodeStatus {
  id: string;
  name: string;
  fingerprint: string;
  /** Raw Ed25519 identity public key, hex: what a peer's trust list holds. */
  publicKey: string;
  listen: string;
  dataDir: string;
  pid: number;
  version: string;
  startedAt: string;
  uptimeMs: number;
  admission: {joinSecret: boolean; trustListKeys: number | null};
  failureDetector: FailureDetectorConfig;
  mdns: {enabled: boolean; interface?: string};
  labels: Record<string, string>;
  capacity: Capacity;
  firewall: {admitted: number; dropped: number; drops: DropCounters};
  transport: TransportStats;
  /** This node's task executor; null until Raft starts. */
  tasks: (ExecutorStats & {running: number}) | null;
}

export interface FleetMember {
  id: string;
  name: string;
  address: string;
  state: MemberState;
  /** ISO time of the last proof of life; null when never seen. */
  lastSeen: string | null;
  lastSeenAgoMs: number | null;
  rttMs: number | null;
  labels: Record<string, string>;
  capacity: Capacity;
  fingerprint: string;
  self: boolean;
  /** Whether the replicated fleet registry (Raft) holds this node. */
  registered: boolean;
}

export interface FleetStatus {
  self: string;
  members: FleetMember[];
}

export interface MembershipResult {
  voters: string[];
  learners: string[];
}

/** Every control call: its parameters and its result (the result is the command's --json output). */
export interface ControlCalls {
  status: {params: null; result: NodeStatus};
  fleet: {params: null; result: FleetStatus};
  stop: {params: null; result: {stopping: true}};
  'consensus.status': {params: {local?: boolean} | null; result: ConsensusStatus};
  'consensus.transfer': {params: {to?: string}; result: {leader: string}};
  'fleet.join': {params: {node: string; learner?: boolean}; result: MembershipResult};
  'fleet.remove': {params: {node: string}; result: MembershipResult};
  'kv.get': {params: {namespace: string; key: string; serializable?: boolean}; result: KvRecord};
  'kv.put': {params: {namespace: string; key: string; value: string; ifVersion?: number}; result: KvResult};
  'kv.del': {params: {namespace: string; key: string; ifVersion?: number}; result: KvResult};
  'kv.list': {params: {namespace: string; prefix: string; serializable?: boolean}; result: KvRecord[]};
  /** spec: a TaskSpec, checked by the fleet (validateTaskSpec). */
  'task.submit': {params: {spec: Record<string, unknown>}; result: Task};
  'task.list': {params: null; result: Task[]};
  'task.get': {params: {id: string}; result: Task};
  'task.cancel': {params: {id: string}; result: Task};
  'task.teleport': {params: {id: string; to?: string; require?: string[]}; result: TeleportResult};
  'task.logs': {params: {id: string; attempt?: number; stream?: string; offset?: number}; result: TaskLogs};
  'vault.status': {params: null; result: VaultStatus};
  'vault.init': {params: {passphrase: string; hint?: string; kdfN?: number}; result: VaultStatus};
  'vault.unlock': {params: {passphrase: string; timeoutMs?: number}; result: VaultStatus};
  'vault.lock': {params: null; result: VaultStatus};
  'vault.list': {params: null; result: EntryInfo[]};
  'vault.get': {params: {name: string}; result: {name: string; value: string}};
  'vault.set': {params: {name: string; value: string}; result: EntryInfo};
  'vault.rm': {params: {name: string}; result: {name: string; removed: true}};
  'vault.rotate': {params: null; result: VaultStatus};
  'snapshot.create': {params: {parts?: number; label?: string; include?: string[]}; result: SnapshotManifest};
  'snapshot.list': {params: null; result: SnapshotManifest[]};
  'snapshot.verify': {params: {id: string}; result: VerifyReport};
  'snapshot.repair': {params: {id: string}; result: VerifyReport & {repaired: {index: number; from: string; to: string}[]}};
  'snapshot.rm': {params: {id: string}; result: {id: string; removed: true; unreachable: string[]}};
  'snapshot.restore': {params: {id: string; to?: string}; result: {id: string; to: string; bytes: number; servedBy: {index: number; node: string}[]; files: number}};
  'snapshot.progress': {params: {id: string}; result: Progress | null};
}
export type ControlMethod = keyof ControlCalls;
export type ControlParams<M extends ControlMethod> = ControlCalls[M]['params'];
export type ControlResult<M extends ControlMethod> = ControlCalls[M]['result'];
export const CONTROL_METHODS: readonly ControlMethod[] = [
  'status', 'fleet', 'stop', 'consensus.status', 'consensus.transfer', 'fleet.join', 'fleet.remove', 'kv.get', 'kv.put', 'kv.del', 'kv.list',
  'task.submit', 'task.list', 'task.get', 'task.cancel', 'task.teleport', 'task.logs',
  'vault.status', 'vault.init', 'vault.unlock', 'vault.lock', 'vault.list', 'vault.get', 'vault.set', 'vault.rm', 'vault.rotate',
  'snapshot.create', 'snapshot.list', 'snapshot.verify', 'snapshot.repair', 'snapshot.rm', 'snapshot.restore', 'snapshot.progress',
];
/** Methods a remote operator (role client) may call over the transport; `stop` included, as with the socket. */
export function isControlMethod(m: unknown): m is ControlMethod {
  return typeof m === 'string' && (CONTROL_METHODS as readonly string[]).includes(m);
}
