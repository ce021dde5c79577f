import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {performance} from 'node:perf_hooks';

import {ConflictError, NotFoundError, RefusedError, UsageError} from '../errors.js';
import type {ServiceContext} from '../service-context.js';
import {decodeManifest, MANIFEST_NAMESPACE} from './manifest.js';
import type {PartCopyStatus, SnapshotManifest, VerifyReport} from './manifest.js';
import {bytesOf, PART_MSG, parsePartRef, parsePut, parseRead, parseReplicate, parseRm} from './part-messages.js';
import type {PartMessage, ReplicateBody} from './part-messages.js';
import {PartStore} from './part-store.js';
import {cutRanges, PayloadReader, planPayload, rootHash} from './payload.js';
import type {PayloadSource} from './payload.js';
import type {PayloadExtractor} from './payload-extract.js';
import {PeerWatch} from './peer-watch.js';
import {placeParts, repairTargets} from './placement.js';
import {restoreStream} from './restore.js';

const CHUNK = 1020 * 1024;
/** Chunks in flight per transfer: enough to keep a link busy, little enough to bound memory. */
const WINDOW = 2;
/** Parts a create sends at once (all of them, at the default counts). */
const PARTS_AT_ONCE = 8;
/**
 * Chunks a restore asks for ahead of the one it consumes. Parts are fetched one after the other (the
 * stream is parsed in order as it arrives), so this one window is what keeps the holders busy.
 */
const FETCH_WINDOW = 4;

export interface SnapshotDeps extends ServiceContext {
  /** The replicated store's state now (what the Raft snapshot would hold). */
  stateBytes: () => Buffer;
  /** Registered nodes with their names. */
  nodes: () => {id: string; name: string}[];
  isAlive: (id: string) => boolean;
  /** Declared dead by the failure detector (not merely suspected: a busy peer may be slow to answer). */
  isDead: (id: string) => boolean;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
  /** Which peer served which part (restore). */
  servedBy: Record<number, string>;
  /** Wall time of each finished step, in order: where an operation spent its time. */
  steps: {step: string; ms: number}[];
}

/** Records, on each call, the time since the previous call (or the start) as the named step. */
function stopwatch(prog: Progress): (step: string) => void {
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    prog.steps.push({step, ms: Math.round(now - last)});
    last = now;
  };
}

/** Data-dir entries never put in a snapshot: keys, sockets, the WAL (the state stands for it), our own scratch. */
const EXCLUDED = new Set(['identity.key', 'join.secret', 'operator.key', 'control.sock', 'node.pid', 'raft', 'snapshot-parts', 'snapshot-work', 'restore']);

/**
 * Snapshots of a node's state, cut into parts and mirrored on two peers each (RAID-10), with the
 * manifest in the replicated store. Parts move over the Voyager transport in bounded chunks with a
 * small window, so memory stays flat whatever the snapshot's size.
 */
export class SnapshotService {
  readonly parts: PartStore;
  private readonly progress = new Map<string, Progress>();
  private readonly peers: PeerWatch;

  constructor(private readonly deps: SnapshotDeps) {
    this.parts = new PartStore(path.join(deps.dataDir, 'snapshot-parts'), deps.clock);
    this.peers = new PeerWatch(deps.isDead);
    const t = deps.transport;
    for (const type of Object.values(PART_MSG)) {
      // Chunk handlers first let the loop turn (they still run in arrival order): the transport
      // dispatches queued frames back to back as microtasks, which would starve this node's timers.
      const chunked = type === PART_MSG.put || type === PART_MSG.read;
      t.handle(type, async (env) => {
        if (chunked) await yieldToLoop();
        return this.serve(type, env.body);
      });
    }
  }

  /** What this node does as a holder, for a peer's request or its own (the same checks either way). */
  private serve(type: PartMessage, body: unknown): unknown {
    switch (type) {
      case PART_MSG.put: {
        const b = parsePut(body);
        return this.parts.put(b.snap, b.part, b.offset, b.data, b.size, b.sha256);
      }
      case PART_MSG.hash: {
        const b = parsePartRef(body);
        return this.parts.hash(b.snap, b.part);
      }
      case PART_MSG.read: {
        const b = parseRead(body);
        return {data: this.parts.read(b.snap, b.part, b.offset, CHUNK)};
      }
      case PART_MSG.replicate:
        return this.replicate(parseReplicate(body));
      case PART_MSG.rm: {
        const b = parseRm(body);
        if (b.part === undefined) this.parts.removeSnapshot(b.snap);
        else this.parts.removePart(b.snap, b.part);
        return {ok: true};
      }
    }
  }

  /** A request to a node; to this node itself, the holder's work directly. */
  private async ask(node: string, type: PartMessage, body: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    if (node === this.deps.self) return this.serve(type, body);
    // A peer killed mid-transfer fails its requests as soon as it is declared dead, not at the timeout.
    const w = this.peers.watch(node);
    try {
      return await this.deps.transport.request(node, type, body, {timeoutMs, signal: w.signal});
    } finally {
      w.release();
    }
  }

  /** Forwards a held part to `to` (repair); the receiver checks it against the manifest's hash. */
  private async replicate(b: ReplicateBody): Promise<{ok: true}> {
    const fd = fs.openSync(this.parts.pathOf(b.snap, b.part), 'r');
    try {
      await this.sendPart([b.to], b.snap, b.part, b.size, (off, buf) => readInto(fd, off, buf), b.sha256);
    } finally {
      fs.closeSync(fd);
    }
    return {ok: true};
  }

  /**
   * Sends one part to every node in `to`, in order, WINDOW chunks in flight (each acknowledged by
   * every target before its slot frees), and returns its sha256. Each chunk is read once whatever the
   * number of targets, into one buffer reused for the whole part (see below).
   * With `expected` (a repair), the receivers check the part against it. Without (a create), the part
   * is hashed where it lands: every receiver reports the hash of what it wrote and all must agree, an
   * end-to-end check across independent copies that spares the sending node a hashing pass. A lone
   * receiver with nothing to agree with gets the hash from the sender instead.
   */
  private async sendPart(to: readonly string[], snap: string, part: number, size: number, read: (offset: number, into: Buffer) => number, expected?: string, onBytes?: (n: number) => void): Promise<string> {
    const local = expected === undefined && to.length < 2 ? crypto.createHash('sha256') : undefined;
    let landed: string[] = [];
    // One buffer for every chunk: the transport seals a sent chunk in the microtask after the send,
    // and the loop below yields to the event loop (after those microtasks) before reading the next.
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    const chunk = (offset: number): Buffer => {
      const data = buf.subarray(0, read(offset, buf.subarray(0, Math.min(CHUNK, size - offset))));
      if (data.length === 0 && size > offset) throw new ConflictError(`part ${snap}/${part}: the source ended early`);
      local?.update(data);
      return data;
    };
    const putAll = async (offset: number, data: Buffer): Promise<void> => {
      const last = offset + data.length >= size;
      const sha256 = expected ?? (last ? local?.digest('hex') : undefined);
      // `data` last: the transport then encrypts it where it lies instead of copying it (encodeEnvelopePieces).
      const acks = (await Promise.all(to.map((node) => this.ask(node, PART_MSG.put, {snap, part, offset, size, ...(sha256 ? {sha256} : {}), data})))) as {sha256?: string}[];
      if (last) landed = acks.map((a) => String(a.sha256));
    };
    // The first chunk creates the part on each receiver: it must land before the others.
    const first = chunk(0);
    await putAll(0, first);
    onBytes?.(first.length * to.length);
    let next = first.length;
    // Later chunks go WINDOW at a time: the link delivers in order and the receiver checks offsets.
    const inflight = new Set<Promise<void>>();
    while (next < size) {
      await yieldToLoop();
      if (inflight.size >= WINDOW) await Promise.race(inflight);
      const offset = next;
      const data = chunk(offset);
      next += data.length;
      const n = data.length * to.length;
      const sent: Promise<void> = putAll(offset, data).then(() => {
        inflight.delete(sent);
        onBytes?.(n);
      });
      inflight.add(sent);
    }
    await Promise.all(inflight);
    const agreed = landed[0];
    if (!agreed || !/^[0-9a-f]{64}$/.test(agreed) || landed.some((h) => h !== agreed)) {
      throw new ConflictError(`part ${part} of snapshot ${snap} landed differently on its holders (${landed.map((h) => h.slice(0, 12)).join(' vs ')}); create again`);
    }
    return agreed;
  }

  progressOf(id: string): Progress | undefined {
    return this.progress.get(id);
  }

  private name(id: string): string {
    return this.deps.nodes().find((n) => n.id === id)?.name ?? id.slice(0, 12);
  }

  private async manifest(id: string): Promise<{m: SnapshotManifest; version: number}> {
    if (!/^[0-9a-f]{4,32}$/.test(id)) throw new UsageError(`snapshot id ${JSON.stringify(id.slice(0, 40))}: expected 4 to 32 hex digits, as swarm snapshot list shows them`);
    const all = (await this.deps.kv.list(MANIFEST_NAMESPACE, '')).filter((r) => r.key.startsWith(id));
    if (all.length === 0) throw new NotFoundError(`no snapshot ${id}; see swarm snapshot list`);
    if (all.length > 1) throw new UsageError(`snapshot ${id} is ambiguous; give more characters`);
    const m = decodeManifest(all[0]!.value);
    if (!m) throw new ConflictError(`snapshot ${id}'s manifest is unreadable`);
    return {m, version: all[0]!.version};
  }

  async list(): Promise<SnapshotManifest[]> {
    const recs = await this.deps.kv.list(MANIFEST_NAMESPACE, '');
    return recs.map((r) => decodeManifest(r.value)).filter((m): m is SnapshotManifest => m !== undefined).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** What goes in: the replicated store's state, the node's files (no keys), and `include` dirs. */
  private sources(include: readonly string[]): PayloadSource[] {
    const out: PayloadSource[] = [{rel: 'state/kv.json', data: this.deps.stateBytes()}];
    const walk = (absDir: string, relDir: string, top: boolean): void => {
      for (const e of fs.readdirSync(absDir, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
        if (top && EXCLUDED.has(e.name)) continue;
        if (e.name.endsWith('.tmp')) continue;
        const abs = path.join(absDir, e.name);
        const rel = `${relDir}/${e.name}`;
        if (e.isDirectory()) walk(abs, rel, false);
        else if (e.isFile()) out.push({rel, abs});
      }
    };
    walk(this.deps.dataDir, 'node', true);
    const names = new Set<string>();
    for (const dir of include) {
      const abs = path.resolve(dir);
      if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new UsageError(`--include ${dir} is not a directory on the node`);
      const name = path.basename(abs);
      if (names.has(name)) throw new UsageError(`--include: two directories named ${name}`);
      names.add(name);
      walk(abs, `include/${name}`, false);
    }
    return out;
  }

  async create(opts: {parts: number; label?: string; include: string[]}): Promise<SnapshotManifest> {
    const id = crypto.randomBytes(8).toString('hex');
    const peers = this.deps.nodes().map((n) => n.id).filter((n) => n !== this.deps.self && this.deps.isAlive(n)).sort();
    const placement = placeParts(opts.parts, peers);
    const prog: Progress = {phase: 'planning', done: 0, total: 0, servedBy: {}, steps: []};
    this.progress.set(id, prog);
    const lap = stopwatch(prog);
    // Sizes are fixed here; every part is then read straight from the sources, each chunk read once
    // and sent to both of its holders.
    const plan = planPayload(this.sources(opts.include));
    const {partSize, ranges} = cutRanges(plan.bytes, opts.parts);
    lap('plan');
    prog.phase = 'sending';
    prog.total = plan.bytes * 2;
    // PARTS_AT_ONCE parts in flight, whatever --parts is: each holds a chunk buffer and a window.
    const hashes: string[] = [];
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < ranges.length && !failed; index = next++) {
        const r = ranges[index]!;
        const reader = new PayloadReader(plan);
        try {
          hashes[index] = await this.sendPart(placement[index]!, id, index, r.size, (off, buf) => reader.read(r.offset + off, buf), undefined, (n) => (prog.done += n));
        } catch (err) {
          failed = true;
          throw err;
        } finally {
          reader.close();
        }
      }
    };
    const settled = await Promise.allSettled(Array.from({length: Math.min(PARTS_AT_ONCE, ranges.length)}, worker));
    const failure = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failure) {
      // No manifest will name them: the parts already sent would only take space.
      await Promise.all(peers.map((n) => this.ask(n, PART_MSG.rm, {snap: id}).catch(() => undefined)));
      throw failure.reason;
    }
    lap('send');
    const m: SnapshotManifest = {
      id,
      ...(opts.label ? {label: opts.label} : {}),
      createdAt: new Date(this.deps.clock()).toISOString(),
      node: this.deps.self,
      bytes: plan.bytes,
      sha256: rootHash(hashes),
      partSize,
      parts: ranges.map((r, index) => ({index, ...r, sha256: hashes[index]!, copies: placement[index]!})),
      entries: plan.entries.map((e) => ({rel: e.rel, size: e.size})),
    };
    const res = await proposeWithRetry(() => this.deps.kv.propose({op: 'put', namespace: MANIFEST_NAMESPACE, key: id, value: JSON.stringify(m), ifVersion: 0}));
    if (!res.ok) throw new ConflictError(`snapshot id ${id} collided; create again`);
    lap('manifest');
    prog.phase = 'done';
    return m;
  }

  async verify(ref: string): Promise<VerifyReport> {
    const {m} = await this.manifest(ref);
    const parts = await Promise.all(
      m.parts.map(async (p) => {
        const copies = await Promise.all(
          p.copies.map(async (node): Promise<{node: string; name: string; status: PartCopyStatus}> => {
            const status = await this.copyStatus(node, m.id, p.index, p.sha256);
            return {node, name: this.name(node), status};
          }),
        );
        return {index: p.index, size: p.size, good: copies.filter((c) => c.status === 'ok').length, copies};
      }),
    );
    const degraded = parts.filter((p) => p.good < p.copies.length && p.good > 0).map((p) => p.index);
    const lost = parts.filter((p) => p.good === 0).map((p) => p.index);
    return {id: m.id, healthy: degraded.length === 0 && lost.length === 0, restorable: lost.length === 0, degraded, lost, parts};
  }

  private async copyStatus(node: string, snap: string, part: number, sha256: string): Promise<PartCopyStatus> {
    if (!this.deps.isAlive(node) && node !== this.deps.self) return 'unreachable';
    try {
      const h = (await this.ask(node, PART_MSG.hash, {snap, part}, 15_000)) as {sha256: string};
      return h.sha256 === sha256 ? 'ok' : 'corrupt';
    } catch (err) {
      return err instanceof NotFoundError ? 'missing' : 'unreachable';
    }
  }

  /** Re-mirrors parts that lost a copy onto live nodes that have none; drops corrupt copies. */
  async repair(ref: string): Promise<VerifyReport & {repaired: {index: number; from: string; to: string}[]}> {
    const report = await this.verify(ref);
    const {m, version} = await this.manifest(ref);
    if (report.lost.length > 0) throw new NotFoundError(`parts ${report.lost.join(', ')} of snapshot ${m.id} have no good copy left; they cannot be repaired`);
    const live = this.deps.nodes().map((n) => n.id).filter((n) => n === this.deps.self || this.deps.isAlive(n)).sort();
    const load = new Map<string, number>();
    for (const p of report.parts) for (const c of p.copies) if (c.status === 'ok') load.set(c.node, (load.get(c.node) ?? 0) + 1);
    const repaired: {index: number; from: string; to: string}[] = [];
    const next: SnapshotManifest = {...m, parts: m.parts.map((p) => ({...p, copies: [...p.copies]}))};
    for (const p of report.parts) {
      if (p.good === p.copies.length) continue;
      const good = p.copies.filter((c) => c.status === 'ok').map((c) => c.node);
      const targets = repairTargets(p.copies.length - good.length, good, live, load);
      if (targets.length < p.copies.length - good.length) throw new RefusedError(`part ${p.index}: not enough live nodes without a copy to re-mirror it; start another node`);
      for (const c of p.copies) if (c.status === 'corrupt') await this.ask(c.node, PART_MSG.rm, {snap: m.id, part: p.index}).catch(() => undefined);
      const spec = m.parts[p.index]!;
      for (const to of targets) {
        await this.ask(good[0]!, PART_MSG.replicate, {snap: m.id, part: p.index, to, size: spec.size, sha256: spec.sha256}, 600_000);
        load.set(to, (load.get(to) ?? 0) + 1);
        repaired.push({index: p.index, from: this.name(good[0]!), to: this.name(to)});
      }
      next.parts[p.index]!.copies = [...good, ...targets];
    }
    if (repaired.length > 0) {
      const r = await this.deps.kv.propose({op: 'put', namespace: MANIFEST_NAMESPACE, key: m.id, value: JSON.stringify(next), ifVersion: version});
      if (!r.ok) throw new ConflictError(`snapshot ${m.id} changed during the repair; run it again`);
    }
    return {...(await this.verify(m.id)), repaired};
  }

  async remove(ref: string): Promise<{id: string; removed: true; unreachable: string[]}> {
    const {m, version} = await this.manifest(ref);
    const holders = [...new Set(m.parts.flatMap((p) => p.copies))];
    const unreachable: string[] = [];
    await Promise.all(holders.map((n) => this.ask(n, PART_MSG.rm, {snap: m.id}).catch(() => unreachable.push(this.name(n)))));
    const r = await this.deps.kv.propose({op: 'del', namespace: MANIFEST_NAMESPACE, key: m.id, ifVersion: version});
    if (!r.ok) throw new ConflictError(`snapshot ${m.id} changed meanwhile; retry`);
    return {id: m.id, removed: true, unreachable};
  }

  /**
   * Streams every part, in order, from a good copy into the extractor, checking each part's hash,
   * then writes the contents under `to` in one transaction. Refuses before touching `to` when a part
   * has no good copy. A copy that fails mid-way (bad bytes, a holder gone) is struck off and the
   * stream starts again from the first part; nothing reaches `to` until every part has checked out.
   */
  async restore(ref: string, to: string | undefined): Promise<{id: string; to: string; bytes: number; servedBy: {index: number; node: string}[]; files: number}> {
    const {m} = await this.manifest(ref);
    if (rootHash(m.parts.map((p) => p.sha256)) !== m.sha256) throw new ConflictError(`snapshot ${m.id}: its part hashes do not add up to its sha256; the manifest is damaged`);
    const prog: Progress = {phase: 'verifying', done: 0, total: m.bytes, servedBy: {}, steps: []};
    this.progress.set(m.id, prog);
    const lap = stopwatch(prog);
    const report = await this.verify(m.id);
    lap('verify');
    if (report.lost.length > 0) throw new NotFoundError(`snapshot ${m.id} cannot be restored: parts ${report.lost.join(', ')} have no good copy left (nothing was changed)`);
    const target = path.resolve(to ?? path.join(this.deps.dataDir, 'restore', m.id));
    // Good copies first, then the others (a copy verify could not reach may be back).
    const order = report.parts.map((p) => [...p.copies.filter((c) => c.status === 'ok'), ...p.copies.filter((c) => c.status !== 'ok')].map((c) => c.node));
    for (;;) {
      const servedBy: {index: number; node: string}[] = [];
      prog.phase = 'fetching';
      prog.done = 0;
      try {
        const files = await restoreStream(target, async (x) => {
          for (const p of m.parts) {
            const node = order[p.index]![0];
            if (!node) throw new NotFoundError(`part ${p.index} of snapshot ${m.id}: no copy could be fetched intact (nothing was changed)`);
            await this.streamPart(node, m, p.index, x, (n) => (prog.done += n));
            servedBy.push({index: p.index, node: this.name(node)});
            prog.servedBy[p.index] = this.name(node);
          }
          lap('fetch + extract');
          prog.phase = 'applying';
        });
        lap('sync + commit');
        prog.phase = 'done';
        return {id: m.id, to: target, bytes: m.bytes, servedBy, files};
      } catch (err) {
        if (!(err instanceof BadCopyError)) throw err;
        this.deps.log.info('snapshot part fetch failed; trying another copy', {snapshot: m.id, part: err.part, node: err.node, err: err.message});
        order[err.part] = order[err.part]!.filter((n) => n !== err.node);
      }
    }
  }

  /**
   * One part from one holder into the extractor, in order, FETCH_WINDOW reads ahead, checked against
   * its hash at the end. Any failure of the copy is a BadCopyError (the caller tries another).
   */
  private async streamPart(node: string, m: SnapshotManifest, index: number, x: PayloadExtractor, onBytes: (n: number) => void): Promise<void> {
    const p = m.parts[index]!;
    const h = crypto.createHash('sha256');
    // Never rejecting: reads left behind when a copy is abandoned must not become unhandled rejections.
    const pending: Promise<Buffer | Error>[] = [];
    let asked = 0;
    const bad = (why: string): BadCopyError => new BadCopyError(index, node, why);
    for (let off = 0; off < p.size; ) {
      while (pending.length < FETCH_WINDOW && asked < p.size) {
        pending.push(
          this.ask(node, PART_MSG.read, {snap: m.id, part: index, offset: asked}, 15_000).then(
            (r) => bytesOf((r as {data: Uint8Array}).data),
            (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
          ),
        );
        asked += CHUNK;
      }
      await yieldToLoop();
      const data = await pending.shift()!;
      if (data instanceof Error) throw bad(data.message);
      // Every read but the last returns a whole chunk from a complete copy; anything else is a bad copy.
      if (data.length !== Math.min(CHUNK, p.size - off)) throw bad(`short read at ${off}`);
      h.update(data);
      // Bytes reach the extractor before the part's hash is known: a bad copy fails the whole stream,
      // which is then thrown away with its scratch dir, so unchecked bytes never reach the target.
      await x.write(data);
      off += data.length;
      onBytes(data.length);
    }
    if (h.digest('hex') !== p.sha256) throw bad('sha256 mismatch');
  }
}

/** A copy of a part that could not be fetched intact: the restore strikes it off and starts over. */
class BadCopyError extends Error {
  constructor(
    readonly part: number,
    readonly node: string,
    why: string,
  ) {
    super(`part ${part} from ${node.slice(0, 12)}: ${why}`);
  }
}

/**
 * Lets the event loop run its I/O and timers before the next chunk. Acks and reads that are already
 * queued resolve as microtasks, so without this a transfer runs chunk after chunk without ever
 * returning to the loop: heartbeats, Raft ticks and control calls then wait for seconds, and
 * freed chunk buffers pile up (measured: a 4-6 s stall and +500 MiB RSS creating 256 MiB).
 */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Fills `into` from `offset` of an open file; returns the bytes read (fewer only at its end). */
function readInto(fd: number, offset: number, into: Buffer): number {
  let n = 0;
  while (n < into.length) {
    const r = fs.readSync(fd, into, n, into.length - n, offset + n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/**
 * The manifest is the last step of a create that may have moved gigabytes: an election at that moment
 * (no leader: ConflictError) is waited out a few times rather than wasting the transfer.
 */
async function proposeWithRetry<T>(fn: () => Promise<T>, attempts = 6, delayMs = 500): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConflictError) || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
