import * as fs from 'node:fs';
import * as path from 'node:path';

import {dataFile, ensureDataDir} from '../config/data-dir.js';
import {ConflictError, UsageError} from '../errors.js';
import type {Logger} from '../log/logger.js';
import {buildAdmission, createJoinSecretFile} from '../security/admission.js';
import type {AdmissionPolicy} from '../security/admission.js';
import {Firewall} from '../security/firewall.js';
import type {AuditSink, PeerRole} from '../security/firewall.js';
import {loadOrCreateIdentity} from '../security/identity.js';
import type {Identity} from '../security/identity.js';
import type {Capacity} from '../transport/hello.js';
import type {MdnsDiscovery} from '../transport/mdns-discovery.js';
import {Voyager} from '../transport/voyager.js';
import type {PeerInfo, VoyagerInit} from '../transport/voyager.js';
import {VERSION} from '../version.js';
import {bootstrapLog, isEmptyLog} from '../consensus/raft/bootstrap.js';
import {DEFAULT_RAFT, RaftDriver} from '../consensus/raft/driver.js';
import type {RaftDriverInit} from '../consensus/raft/driver.js';
import type {WritableRaftStorage} from '../consensus/raft/types.js';
import {FileStorage} from '../consensus/raft/wal/index.js';
import {NotFoundError} from '../errors.js';
import {FleetService} from '../fleet/fleet-service.js';
import {importFileVault} from '../vault/vault-import.js';
import {VaultService} from '../vault/vault-service.js';
import {KvVaultStore} from '../vault/vault-store.js';
import {SnapshotService} from '../snapshot/snapshot-service.js';
import type {ServiceContext} from '../service-context.js';
import {snapshotRoutes, taskRoutes, vaultRoutes} from './service-routes.js';
import type {Routes} from './service-routes.js';
import type {Liveness} from '../fleet/placement-loop.js';
import {controlParams} from './control-params.js';
import {decodeRegistration, encodeRegistration, FLEET_NAMESPACE, registrationKey} from './fleet-registry.js';
import {ControlServer} from './control-server.js';
import {CONTROL_METHODS} from './control-types.js';
import type {ControlMethod, ControlParams, ControlResult, FleetMember, FleetStatus, NodeStatus} from './control-types.js';
import {Membership} from './membership.js';
import type {FailureDetectorConfig, StateChange} from './membership.js';

export interface NodeOptions {
  dataDir: string;
  name: string;
  bindHost: string;
  /** 0 picks a free port. */
  port: number;
  advertise?: string;
  /** Static peers, "host:port" or "tcp://host:port". */
  peers: string[];
  labels: Record<string, string>;
  capacity: Capacity;
  mdns: boolean;
  joinSecretFile?: string;
  trustFile?: string;
  failureDetector: FailureDetectorConfig;
  transport?: Partial<VoyagerInit>;
  /**
   * Names of the initial Raft voters ("self" = this node). A node named here bootstraps the log once
   * all of them are alive; a node with an empty log not named here waits to be added (`fleet join`).
   */
  raftBootstrap: string[];
  raft?: Partial<Omit<RaftDriverInit, 'id'>>;
  /** How often the leader places tasks and each executor re-reads its tasks (besides on every change). */
  tasks?: Partial<{placementIntervalMs: number; executorIntervalMs: number}>;
}

/** Gossip bound: how many member addresses one heartbeat answer carries. */
const MAX_GOSSIP = 64;
const MAX_LINKS = 256;
const LEAVE_TYPE = 'membership.leave';
const PING_TYPE = 'membership.ping';

interface PingBody {
  members: {id: string; address: string}[];
}

/** Which message types each peer role may send (the firewall's policy). */
function allowType(role: PeerRole, type: string): boolean {
  if (type.startsWith('control.')) return role === 'client';
  if (type.startsWith('membership.')) return role === 'node';
  return role === 'node';
}

export function normalizePeerAddress(peer: string): string {
  const addr = peer.startsWith('tcp://') ? peer : `tcp://${peer}`;
  const m = /^tcp:\/\/([A-Za-z0-9.[\]:_-]+):(\d{1,5})$/.exec(addr);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`--peer ${peer}: expected host:port`);
  return addr;
}

/**
 * The composition root of a running node: identity, admission, firewall, transport, discovery,
 * membership and the control socket, with an explicit start/stop lifecycle.
 */
export class SwarmNode {
  readonly identity: Identity;
  readonly admission: AdmissionPolicy;
  readonly firewall: Firewall;
  readonly transport: Voyager;
  readonly membership: Membership;
  /** True when start() wrote a new join secret (no admission was configured). */
  readonly createdJoinSecret: boolean;
  private readonly control: ControlServer;
  private mdns?: MdnsDiscovery;
  private heartbeat?: NodeJS.Timeout;
  private audit?: fs.WriteStream;
  private startedMs = 0;
  private stopping?: Promise<void>;
  private readonly stopListeners: (() => void)[] = [];
  /** Opened in start(), after the control socket proved no other node owns this data dir. */
  raftStorage!: WritableRaftStorage;
  raft!: RaftDriver;
  fleetService!: FleetService;
  vault!: VaultService;
  snapshots!: SnapshotService;
  /** The services' control methods (task.*, vault.*, snapshot.*). */
  private routes: Routes = {};
  private raftStarted = false;
  private registering = false;
  private nextRegisterMs = 0;

  constructor(
    private readonly components: {log: Logger; clock?: () => number},
    private readonly opts: NodeOptions,
  ) {
    ensureDataDir(opts.dataDir);
    this.identity = loadOrCreateIdentity(dataFile(opts.dataDir, 'identityKey')).identity;
    let joinSecretFile = opts.joinSecretFile;
    this.createdJoinSecret = false;
    if (!joinSecretFile && !opts.trustFile) {
      // Safe default: never open admission. The first start creates a secret others join with.
      joinSecretFile = dataFile(opts.dataDir, 'joinSecret');
      if (!fs.existsSync(joinSecretFile)) {
        createJoinSecretFile(joinSecretFile);
        this.createdJoinSecret = true;
      }
    }
    this.admission = buildAdmission({
      ...(joinSecretFile ? {joinSecretFile} : {}),
      ...(opts.trustFile ? {trustFile: opts.trustFile} : {}),
    });
    this.membership = new Membership(opts.failureDetector);
    const sink: AuditSink = {audit: (ev) => this.audit?.write(JSON.stringify(ev) + '\n')};
    this.firewall = new Firewall({clock: this.clock, sink}, {knownType: (t) => this.transport.hasHandler(t), allowType});
    this.transport = new Voyager(
      {identity: this.identity, admission: this.admission, firewall: this.firewall, log: components.log, clock: this.clock},
      {
        role: 'node',
        name: opts.name,
        labels: opts.labels,
        capacity: opts.capacity,
        bind: {host: opts.bindHost, port: opts.port},
        ...(opts.advertise ? {advertise: opts.advertise} : {}),
        ...opts.transport,
      },
      {onPeerUp: (peer, dir) => this.onPeerUp(peer, dir)},
    );
    this.control = new ControlServer(
      {
        log: components.log,
        call: (m, p) => this.call(m, controlParams(m, p)),
        watch: (p, emit) => {
          // Same shape as kv.list: namespace and prefix.
          const {namespace, prefix} = controlParams('kv.list', p);
          return this.raft.watch(namespace, prefix, emit);
        },
      },
      dataFile(opts.dataDir, 'controlSocket'),
    );
  }

  /**
   * Starts Raft once it can: at once when the log has state (a restart) or this node only joins;
   * a bootstrapping node waits until every named initial voter is alive, so all write the same log.
   */
  private maybeStartRaft(): void {
    if (this.raftStarted || !this.raft) return;
    const names = this.opts.raftBootstrap;
    if (isEmptyLog(this.raftStorage) && names.length > 0) {
      const ids = names.map((n) => (n === 'self' || n === this.opts.name ? this.identity.id : this.membership.list().find((m) => m.name === n && m.state === 'alive')?.id));
      if (ids.some((id) => id === undefined)) return;
      bootstrapLog(this.raftStorage, ids as string[]);
    }
    this.raftStarted = true;
    this.raft.start();
    this.fleetService.start();
  }

  private readonly clock = (): number => (this.components.clock ?? Date.now)();

  /** Called once when the node begins stopping (e.g. by a `control.stop`), so the owner can exit. */
  onStop(fn: () => void): void {
    this.stopListeners.push(fn);
  }

  async start(): Promise<void> {
    const wildcard = this.opts.bindHost === '0.0.0.0' || this.opts.bindHost === '::';
    if (wildcard && !this.opts.advertise) throw new UsageError(`--bind ${this.opts.bindHost} needs --advertise tcp://ADDR:PORT (peers cannot dial a wildcard)`);
    // mDNS runs on the bind interface only; a wildcard has no single interface, and the routing
    // table would send multicast out of the machine's main interface.
    if (wildcard && this.opts.mdns) throw new UsageError(`--bind ${this.opts.bindHost} has no single interface for mDNS; bind a specific address or pass --no-mdns`);
    const peers = this.opts.peers.map(normalizePeerAddress);
    try {
      await this.startParts(peers);
    } catch (err) {
      // Release what did start, so the process can exit with the error instead of hanging on sockets.
      await this.release();
      throw err;
    }
    this.components.log.info('node started', {id: this.identity.id, name: this.opts.name, listen: this.transport.listen});
  }

  private async startParts(peers: string[]): Promise<void> {
    this.startedMs = this.clock();
    this.audit = fs.createWriteStream(dataFile(this.opts.dataDir, 'audit'), {flags: 'a', mode: 0o600});
    this.transport.handle(PING_TYPE, (env, peer) => this.onPing(env.body, peer));
    this.transport.handle(LEAVE_TYPE, (_env, peer) => {
      this.logChange(this.membership.markLeft(peer.id));
      return undefined;
    });
    for (const m of CONTROL_METHODS) {
      this.transport.handle(`control.${m}`, (env) => this.call(m, controlParams(m, env.body)));
    }
    // The control socket first: it proves no other node owns this data dir before we open its WAL.
    await this.control.start();
    fs.writeFileSync(dataFile(this.opts.dataDir, 'pid'), `${process.pid}\n`, {mode: 0o600});
    this.raftStorage = FileStorage.open(path.join(this.opts.dataDir, 'raft'));
    this.raft = new RaftDriver({transport: this.transport, storage: this.raftStorage, log: this.components.log}, {...DEFAULT_RAFT, ...this.opts.raft, id: this.identity.id});
    this.vault = new VaultService(new KvVaultStore(this.raft), {clock: this.clock});
    const ctx: ServiceContext = {kv: this.raft, transport: this.transport, log: this.components.log, clock: this.clock, self: this.identity.id, dataDir: this.opts.dataDir};
    this.snapshots = new SnapshotService({
      ...ctx,
      stateBytes: () => Buffer.from(this.raft.kv.snapshot()),
      nodes: () => this.registeredNodes(),
      isAlive: (id) => this.liveness(id) === 'alive',
      isDead: (id) => this.liveness(id) === 'dead',
    });
    this.fleetService = new FleetService(
      {
        ...ctx,
        isLeader: () => this.raft.isLeader(),
        nodes: () => this.registeredNodes(),
        liveness: (id) => this.liveness(id),
        resolveNode: (ref) => this.resolveMember(ref),
        resolveEnv: (env) => this.vault.resolveEnv(env),
      },
      {
        placementIntervalMs: this.opts.tasks?.placementIntervalMs ?? 1000,
        executorIntervalMs: this.opts.tasks?.executorIntervalMs ?? 1000,
        unknownGraceMs: this.opts.failureDetector.deadAfterMs,
      },
    );
    const vaultFile = dataFile(this.opts.dataDir, 'vault');
    this.routes = {
      ...taskRoutes(this.fleetService),
      ...vaultRoutes(this.vault, () => importFileVault(this.raft, vaultFile)),
      ...snapshotRoutes(this.snapshots),
    };
    try {
      await this.transport.start();
    } catch (err) {
      const code = (err as {code?: string}).code;
      if (code === 'EADDRINUSE') throw new ConflictError(`port ${this.opts.port} on ${this.opts.bindHost} is in use; pass --port`);
      throw new UsageError(`cannot listen on ${this.opts.bindHost}:${this.opts.port} (${code ?? String(err)}); check --bind and --port`);
    }
    for (const p of peers) this.transport.connect(p);
    if (this.opts.mdns) await this.startMdns();
    this.heartbeat = setInterval(() => this.beat(), this.opts.failureDetector.heartbeatIntervalMs);
    this.maybeStartRaft();
  }

  /**
   * Graceful stop: tell peers we leave, stop discovery (mDNS goodbye), close the control socket,
   * drain and close the transport with bounded linger. Idempotent; resolves when done.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    for (const fn of this.stopListeners) fn();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const p of this.transport.connectedPeers()) if (p.role === 'node') this.transport.send(p.id, LEAVE_TYPE, null);
    await Promise.allSettled([this.mdns?.stop(), this.transport.drain(300)]);
    await this.release();
    this.components.log.info('node stopped', {id: this.identity.id});
  }

  /** Closes everything start() may have opened; safe on a partial start. */
  private async release(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    // Local sandboxes stop with the node; after a restart their tasks count as lost and are retried.
    if (this.raftStarted) await this.fleetService?.stop();
    this.raft?.stop();
    (this.raftStorage as FileStorage | undefined)?.close();
    await this.mdns?.stop().catch(() => {});
    await this.control.stop();
    await this.transport.stop();
    fs.rmSync(dataFile(this.opts.dataDir, 'pid'), {force: true});
    const audit = this.audit;
    this.audit = undefined;
    await new Promise<void>((resolve) => (audit ? audit.end(() => resolve()) : resolve()));
  }

  private async startMdns(): Promise<void> {
    const port = this.transport.boundPort ?? this.opts.port;
    // Loaded only when enabled: nodes started with --no-mdns never open a multicast socket.
    const {MdnsDiscovery} = await import('../transport/mdns-discovery.js');
    this.mdns = new MdnsDiscovery({
      id: this.identity.id,
      name: this.opts.name,
      port,
      fingerprint: this.identity.fingerprint,
      interfaceAddress: this.opts.bindHost,
      // Queries are multicast to everyone on the link: keep them well below the heartbeat rate.
      queryIntervalMs: Math.max(1000, 5 * this.opts.failureDetector.heartbeatIntervalMs),
      // Discovery only proposes: the handshake decides who this really is.
      onPeer: (p) => this.maybeConnect(`tcp://${p.host}:${p.port}`),
      onGoodbye: (id) => this.components.log.info('mdns goodbye', {peer: id}),
      onError: (err) => this.components.log.warn('mdns error', {err: err.message}),
    });
    try {
      await this.mdns.start();
    } catch (err) {
      throw new UsageError(`mDNS cannot run on ${this.opts.bindHost} (${(err as Error).message}); bind another address or pass --no-mdns`);
    }
  }

  private maybeConnect(address: string): void {
    if (address === this.transport.listen) return;
    if (this.transport.linkStates().length >= MAX_LINKS) return;
    this.transport.connect(address);
  }

  private onPeerUp(peer: PeerInfo, direction: 'in' | 'out'): void {
    if (peer.role !== 'node') return;
    this.logChange(
      this.membership.upsert(
        {id: peer.id, name: peer.name, address: peer.listen, labels: peer.labels, capacity: peer.capacity, fingerprint: peer.fingerprint},
        this.clock(),
      ),
    );
    // An inbound peer we don't dial yet: dial back, so each side has its own outbound link.
    if (direction === 'in' && peer.listen) this.maybeConnect(peer.listen);
    this.maybeStartRaft();
  }

  private onPing(body: unknown, peer: PeerInfo): PingBody {
    this.logChange(this.membership.markSeen(peer.id, this.clock()));
    this.learn(body);
    return this.gossip();
  }

  private gossip(): PingBody {
    const members = this.membership
      .list()
      .filter((m) => m.state === 'alive' && m.address)
      .slice(0, MAX_GOSSIP)
      .map((m) => ({id: m.id, address: m.address}));
    return {members};
  }

  /** Gossip only proposes addresses; each is verified by its own handshake. */
  private learn(body: unknown): void {
    const members = (body as Partial<PingBody> | null)?.members;
    if (!Array.isArray(members)) return;
    for (const m of members.slice(0, MAX_GOSSIP)) {
      if (!m || typeof m.id !== 'string' || typeof m.address !== 'string' || m.id === this.identity.id) continue;
      if (this.membership.get(m.id)) continue;
      try {
        this.maybeConnect(normalizePeerAddress(m.address));
      } catch {
        // A bad address from a peer is ignored, not fatal.
      }
    }
  }

  /** Keeps this node's entry in the replicated fleet registry current (rewritten only when it changed). */
  private maybeRegister(): void {
    if (!this.raftStarted || this.registering || this.clock() < this.nextRegisterMs || !this.raft.leader()) return;
    const want = encodeRegistration({
      id: this.identity.id,
      name: this.opts.name,
      address: this.transport.listen,
      labels: this.opts.labels,
      capacity: this.opts.capacity,
      fingerprint: this.identity.fingerprint,
    });
    const key = registrationKey(this.identity.id);
    if (this.raft.kv.get(FLEET_NAMESPACE, key)?.value === want) return;
    this.registering = true;
    this.raft
      .propose({op: 'put', namespace: FLEET_NAMESPACE, key, value: want})
      .catch(() => {
        // Not a member yet, or no quorum: try again later.
        this.nextRegisterMs = this.clock() + 2000;
      })
      .finally(() => {
        this.registering = false;
      });
  }

  private beat(): void {
    this.maybeRegister();
    const timeoutMs = this.opts.failureDetector.heartbeatIntervalMs * 2;
    for (const m of this.membership.list()) {
      if (m.state === 'left' && !this.transport.canReach(m.id)) continue;
      if (!this.transport.canReach(m.id)) continue;
      const sentMs = this.clock();
      this.transport
        .request(m.id, PING_TYPE, this.gossip(), {timeoutMs})
        .then((reply) => {
          const now = this.clock();
          this.logChange(this.membership.markSeen(m.id, now, now - sentMs));
          this.learn(reply);
        })
        .catch(() => {
          // Silence is what the failure detector measures; nothing to do per miss.
        });
    }
    for (const c of this.membership.tick(this.clock())) {
      this.logChange(c);
      // Its session is likely gone (crash): handshake again so we notice the moment it returns.
      if (c.to === 'dead') this.transport.resetLink(c.id);
    }
  }

  /** Registered nodes as the scheduler sees them. */
  private registeredNodes(): {id: string; name: string; capacity: Capacity; labels: Record<string, string>}[] {
    return this.raft.kv
      .list(FLEET_NAMESPACE, 'nodes/')
      .map((r) => decodeRegistration(r.value))
      .filter((r) => r !== undefined)
      .map((r) => ({id: r.id, name: r.name, capacity: r.capacity, labels: r.labels}));
  }

  private liveness(id: string): Liveness {
    if (id === this.identity.id) return 'alive';
    const m = this.membership.get(id);
    if (!m) return 'unknown';
    return m.state === 'left' ? 'dead' : m.state;
  }

  private logChange(c: StateChange | undefined): void {
    if (c) this.components.log.info('member state', {peer: c.id, from: c.from, to: c.to});
  }

  // ---- control API ---------------------------------------------------------------------------------

  async call<M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResult<M>> {
    return (await this.dispatch(method, params as never)) as ControlResult<M>;
  }

  private async dispatch(method: ControlMethod, p: never): Promise<unknown> {
    const params = p as Record<string, unknown>;
    switch (method) {
      case 'status':
        return this.status();
      case 'fleet':
        return this.fleet();
      case 'stop':
        // Answer first, then stop: the caller gets its reply before the socket closes.
        setImmediate(() => void this.stop());
        return {stopping: true};
      case 'consensus.status':
        return params.local ? this.raft.status() : this.raft.clusterStatus();
      case 'consensus.transfer': {
        const to = params.to ? this.resolveMember(params.to as string) : this.bestTransferTarget();
        return this.raft.transferLeader(to);
      }
      case 'fleet.join': {
        const node = this.resolveMember(params.node as string);
        if (params.learner) return this.raft.changeMember({op: 'add-learner', node});
        // Learner first, then voter: a new member catches up before it counts for quorum.
        if (!this.raft.status().voters.includes(node)) await this.raft.changeMember({op: 'add-learner', node});
        return this.raft.changeMember({op: 'add-voter', node});
      }
      case 'fleet.remove': {
        const node = this.resolveMember(params.node as string, true);
        const result = await this.raft.changeMember({op: 'remove', node});
        // Forget its registration too; a node that comes back registers again.
        await this.raft.propose({op: 'del', namespace: FLEET_NAMESPACE, key: registrationKey(node)}).catch(() => undefined);
        return result;
      }
      case 'kv.get':
        return this.raft.get(params.namespace as string, params.key as string, {serializable: Boolean(params.serializable)});
      case 'kv.list':
        return this.raft.list(params.namespace as string, params.prefix as string, {serializable: Boolean(params.serializable)});
      case 'kv.put':
        return this.raft.propose({op: 'put', namespace: params.namespace as string, key: params.key as string, value: params.value as string, ...(params.ifVersion !== undefined ? {ifVersion: params.ifVersion as number} : {})});
      case 'kv.del':
        return this.raft.propose({op: 'del', namespace: params.namespace as string, key: params.key as string, ...(params.ifVersion !== undefined ? {ifVersion: params.ifVersion as number} : {})});
      default: {
        const route = this.routes[method];
        if (route) return route(params);
        throw new UsageError(`unknown control method ${String(method)}`);
      }
    }
  }

  /** A node reference from an operator: exact id, unique name, or unique id prefix (>= 4 chars). */
  private resolveMember(ref: string, allowUnknownId = false): string {
    const registered = this.raftStarted ? this.raft.kv.list(FLEET_NAMESPACE, 'nodes/').map((r) => decodeRegistration(r.value)).filter((r) => r !== undefined) : [];
    const all = [{id: this.identity.id, name: this.opts.name}, ...this.membership.list(), ...registered.filter((r) => !this.membership.get(r.id) && r.id !== this.identity.id)];
    const exact = all.find((m) => m.id === ref);
    if (exact) return exact.id;
    const byName = all.filter((m) => m.name === ref);
    if (byName.length === 1) return byName[0]!.id;
    const byPrefix = ref.length >= 4 ? all.filter((m) => m.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!.id;
    if (allowUnknownId && /^[0-9a-f]{32}$/.test(ref)) return ref;
    if (byName.length > 1 || byPrefix.length > 1) throw new UsageError(`"${ref}" matches several members; use the full id`);
    throw new NotFoundError(`no member "${ref}"; see swarm fleet status`);
  }

  /** Without --to: the voter (other than the leader) that is most caught up. */
  private bestTransferTarget(): string {
    const st = this.raft.status();
    const candidates = st.members.filter((m) => m.id !== st.leader && !m.learner).sort((a, b) => b.match - a.match);
    if (candidates.length === 0) {
      const other = st.voters.find((v) => v !== st.leader);
      if (!other) throw new NotFoundError('no other voter to transfer leadership to');
      return other;
    }
    return candidates[0]!.id;
  }

  status(): NodeStatus {
    const now = this.clock();
    return {
      id: this.identity.id,
      name: this.opts.name,
      fingerprint: this.identity.fingerprint,
      publicKey: this.identity.publicKey.toString('hex'),
      listen: this.transport.listen,
      dataDir: this.opts.dataDir,
      pid: process.pid,
      version: VERSION,
      startedAt: new Date(this.startedMs).toISOString(),
      uptimeMs: now - this.startedMs,
      admission: {joinSecret: this.admission.hasJoinSecret, trustListKeys: this.admission.trusted ? this.admission.trusted.size : null},
      failureDetector: this.opts.failureDetector,
      mdns: {enabled: this.opts.mdns, ...(this.opts.mdns ? {interface: this.opts.bindHost} : {})},
      labels: this.opts.labels,
      capacity: this.opts.capacity,
      firewall: {admitted: this.firewall.admitted, dropped: this.firewall.totalDropped(), drops: {...this.firewall.counters}},
      transport: {...this.transport.stats},
      tasks: this.raftStarted ? {running: this.fleetService.executor.running().length, ...this.fleetService.executor.stats} : null,
    };
  }

  fleet(): FleetStatus {
    const now = this.clock();
    const self: FleetMember = {
      id: this.identity.id,
      name: this.opts.name,
      address: this.transport.listen,
      state: 'alive',
      lastSeen: new Date(now).toISOString(),
      lastSeenAgoMs: 0,
      rttMs: 0,
      labels: this.opts.labels,
      capacity: this.opts.capacity,
      fingerprint: this.identity.fingerprint,
      self: true,
      registered: false,
    };
    const others: FleetMember[] = this.membership.list().map((m) => ({
      id: m.id,
      name: m.name,
      address: m.address,
      state: m.state,
      lastSeen: m.lastSeenMs ? new Date(m.lastSeenMs).toISOString() : null,
      lastSeenAgoMs: m.lastSeenMs ? now - m.lastSeenMs : null,
      rttMs: m.rttMs ?? null,
      labels: m.labels,
      capacity: m.capacity,
      fingerprint: m.fingerprint,
      self: false,
      registered: false,
    }));
    // Nodes the replicated registry knows but this node has not seen since it started.
    const registry = this.raftStarted ? this.raft.kv.list(FLEET_NAMESPACE, 'nodes/') : [];
    const known = new Set([self.id, ...others.map((o) => o.id)]);
    for (const rec of registry) {
      const r = decodeRegistration(rec.value);
      if (!r) continue;
      if (known.has(r.id)) {
        const row = r.id === self.id ? self : others.find((o) => o.id === r.id)!;
        row.registered = true;
        continue;
      }
      others.push({...r, state: 'dead', lastSeen: null, lastSeenAgoMs: null, rttMs: null, self: false, registered: true});
    }
    others.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return {self: this.identity.id, members: [self, ...others]};
  }
}
