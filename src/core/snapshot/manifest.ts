/**
 * A snapshot's manifest, kept in the replicated store (namespace `snapshots`, key = id): what is in
 * it, how it was cut, every part's hash and size, and which two nodes hold each part.
 */
export const MANIFEST_NAMESPACE = 'snapshots';

export interface PartInfo {
  index: number;
  /** Byte range of the payload this part holds. */
  offset: number;
  size: number;
  sha256: string;
  /** Node ids holding a copy (two, on different nodes). */
  copies: string[];
}

export interface SnapshotManifest {
  id: string;
  label?: string;
  createdAt: string;
  /** The node whose state this is. */
  node: string;
  bytes: number;
  sha256: string;
  partSize: number;
  parts: PartInfo[];
  entries: {rel: string; size: number}[];
}

export type PartCopyStatus = 'ok' | 'corrupt' | 'missing' | 'unreachable';

export interface VerifyReport {
  id: string;
  /** Every copy of every part is present and intact. */
  healthy: boolean;
  /** Every part has at least one intact copy. */
  restorable: boolean;
  /** Parts with a copy missing or bad (and one good). */
  degraded: number[];
  /** Parts with no good copy. */
  lost: number[];
  parts: {index: number; size: number; good: number; copies: {node: string; name: string; status: PartCopyStatus}[]}[];
}

export function decodeManifest(value: string): SnapshotManifest | undefined {
  try {
    const m = JSON.parse(value) as SnapshotManifest;
    if (typeof m.id !== 'string' || !Array.isArray(m.parts) || typeof m.sha256 !== 'string' || !Number.isSafeInteger(m.bytes)) return undefined;
    for (const p of m.parts) if (!Number.isSafeInteger(p.index) || !Number.isSafeInteger(p.size) || typeof p.sha256 !== 'string' || !Array.isArray(p.copies)) return undefined;
    return m;
  } catch {
    return undefined;
  }
}
