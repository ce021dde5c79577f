/**
 * The replicated state machine: a versioned key-value store with namespaces, compare-and-swap and
 * watch, applied in Raft log order. Deterministic: the same commands in the same order give the
 * same state on every node (no clocks, no randomness).
 */
export interface KvRecord {
  namespace: string;
  key: string;
  value: string;
  /** Revision (Raft index) that created the key, and that last modified it. */
  createRevision: number;
  modRevision: number;
  /** Number of writes since creation (1 after create). */
  version: number;
}

export type KvCommand =
  | {op: 'put'; namespace: string; key: string; value: string; /** CAS: 0 = must not exist, n = current version must be n */ ifVersion?: number}
  | {op: 'del'; namespace: string; key: string; ifVersion?: number};

export type KvResult = {ok: true; revision: number; version: number} | {ok: false; reason: 'version_mismatch' | 'not_found'; currentVersion: number};

export interface KvEvent {
  type: 'put' | 'del';
  namespace: string;
  key: string;
  value?: string;
  revision: number;
}

export const KV_LIMITS = {namespaceChars: 63, keyChars: 512, valueBytes: 1024 * 1024} as const;

const NS_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** Validates a command from the network or the CLI; returns a reason or undefined when fine. */
export function invalidCommand(c: unknown): string | undefined {
  if (!c || typeof c !== 'object') return 'not an object';
  const o = c as Record<string, unknown>;
  if (o.op !== 'put' && o.op !== 'del') return 'op must be put or del';
  if (typeof o.namespace !== 'string' || o.namespace.length > KV_LIMITS.namespaceChars || !NS_RE.test(o.namespace)) return 'bad namespace';
  if (typeof o.key !== 'string' || o.key.length === 0 || o.key.length > KV_LIMITS.keyChars) return 'bad key';
  if (o.op === 'put' && (typeof o.value !== 'string' || Buffer.byteLength(o.value) > KV_LIMITS.valueBytes)) return 'bad value';
  if (o.ifVersion !== undefined && (!Number.isSafeInteger(o.ifVersion) || (o.ifVersion as number) < 0)) return 'bad ifVersion';
  return undefined;
}

const full = (ns: string, key: string): string => `${ns}\u0000${key}`;

export class KvStore {
  private readonly data = new Map<string, KvRecord>();
  /** Revision of the last applied entry (every applied Raft entry advances it). */
  revision = 0;
  /**
   * Per proposer session, the highest request sequence applied: a proposal re-sent after a leader
   * change (the first copy may have been committed after all) applies at most once.
   */
  private readonly sessions = new Map<string, number>();

  /** True (and recorded) the first time a (session, seq) is seen; false for a duplicate or older one. */
  firstTime(session: string, seq: number): boolean {
    if ((this.sessions.get(session) ?? -1) >= seq) return false;
    this.sessions.set(session, seq);
    return true;
  }

  apply(cmd: KvCommand, index: number): {result: KvResult; event?: KvEvent} {
    this.revision = index;
    const k = full(cmd.namespace, cmd.key);
    const cur = this.data.get(k);
    const curVersion = cur?.version ?? 0;
    if (cmd.ifVersion !== undefined && cmd.ifVersion !== curVersion) {
      return {result: {ok: false, reason: 'version_mismatch', currentVersion: curVersion}};
    }
    if (cmd.op === 'put') {
      const rec: KvRecord = {
        namespace: cmd.namespace,
        key: cmd.key,
        value: cmd.value,
        createRevision: cur?.createRevision ?? index,
        modRevision: index,
        version: curVersion + 1,
      };
      this.data.set(k, rec);
      return {result: {ok: true, revision: index, version: rec.version}, event: {type: 'put', namespace: cmd.namespace, key: cmd.key, value: cmd.value, revision: index}};
    }
    if (!cur) return {result: {ok: false, reason: 'not_found', currentVersion: 0}};
    this.data.delete(k);
    return {result: {ok: true, revision: index, version: 0}, event: {type: 'del', namespace: cmd.namespace, key: cmd.key, revision: index}};
  }

  /** An applied entry that is not a KV command (no-op, conf change) still advances the revision. */
  skip(index: number): void {
    this.revision = index;
  }

  get(namespace: string, key: string): KvRecord | undefined {
    return this.data.get(full(namespace, key));
  }

  /** Records in `namespace` whose key starts with `prefix`, sorted by key. */
  list(namespace: string, prefix = ''): KvRecord[] {
    const out: KvRecord[] = [];
    for (const r of this.data.values()) if (r.namespace === namespace && r.key.startsWith(prefix)) out.push(r);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({revision: this.revision, records: [...this.data.values()], sessions: [...this.sessions]}));
  }

  restore(data: Uint8Array): void {
    this.data.clear();
    this.sessions.clear();
    this.revision = 0;
    if (data.length === 0) return;
    const s = JSON.parse(new TextDecoder().decode(data)) as {revision: number; records: KvRecord[]; sessions?: [string, number][]};
    this.revision = s.revision;
    for (const r of s.records) this.data.set(full(r.namespace, r.key), r);
    for (const [k, v] of s.sessions ?? []) this.sessions.set(k, v);
  }
}
