import type {DropCounters} from '../security/firewall.js';
import type {Capacity} from '../transport/hello.js';
import type {TransportStats} from '../transport/voyager.js';
import type {FailureDetectorConfig, MemberState} from './membership.js';

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
}

export interface FleetStatus {
  self: string;
  members: FleetMember[];
}

export interface ControlMethods {
  status: NodeStatus;
  fleet: FleetStatus;
  stop: {stopping: true};
}
export type ControlMethod = keyof ControlMethods;
export const CONTROL_METHODS: readonly ControlMethod[] = ['status', 'fleet', 'stop'];
