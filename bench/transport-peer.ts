/**
 * One side of the transport benchmark, run as a forked child: `transport-peer.js <server|client> <raw|swarm|swarm-1>`.
 * The parent (bench/transport.ts) drives it over IPC; every call is answered with {id, ok, result|error}.
 *
 * raw   = bare zeromq DEALER -> ROUTER, no crypto. Wire: u8 kind (0 sink, 1 echo, 2 reply), u32 id, payload.
 * swarm = two real Voyager endpoints (Noise XXpsk3 link, AES-256-GCM frames, firewall, envelopes), default
 *         settings: envelopes queued in the same tick are coalesced into one frame (one AEAD operation).
 * swarm-1 = the same with `coalesce: false` on both endpoints: one frame and one AEAD operation per message.
 *
 * All modes expose the same ClientSide to the same drivers (throughput(), latency()), so the only
 * difference measured is the transport underneath. The child exits on 'stop', when the parent goes
 * away, or after a hard lifetime cap, so nothing outlives the benchmark.
 */
import * as crypto from 'node:crypto';

import * as zmq from 'zeromq';

import {nullLogger} from '../src/core/log/logger.js';
import {pskFromJoinSecret} from '../src/core/security/admission.js';
import {Firewall} from '../src/core/security/firewall.js';
import {generateIdentity} from '../src/core/security/identity.js';
import {Voyager} from '../src/core/transport/voyager.js';

export const MODES = ['raw', 'swarm', 'swarm-1'] as const;
export type Mode = (typeof MODES)[number];
export type Role = 'server' | 'client';

export interface ThroughputParams {
  size: number;
  count: number;
  /** Messages sent between two echo barriers. */
  batch: number;
  /** Barriers in flight before the sender waits for the oldest (bounds un-acked messages to batch*window). */
  window: number;
  timeLimitMs: number;
}
export interface ThroughputResult {
  attempted: number;
  /** send() returned false (swarm: Voyager queue full / session expired; raw: send rejected). */
  refused: number;
  /** Drops reported after send() accepted the frame (swarm: firewall 'backpressure' counter). */
  asyncDrops: number;
  elapsedNs: number;
  timedOut: boolean;
}
export interface LatencyParams {
  size: number;
  rounds: number;
  warmup: number;
  timeLimitMs: number;
}
export interface LatencyResult {
  samplesUs: number[];
  elapsedNs: number;
  timedOut: boolean;
}
export interface ServerCounts {
  count: number;
  bytes: number;
  drops: Record<string, number>;
}

export type Call =
  | {cmd: 'connect'; address: string}
  | {cmd: 'throughput'; params: ThroughputParams}
  | {cmd: 'latency'; params: LatencyParams}
  | {cmd: 'reset'}
  | {cmd: 'counts'}
  | {cmd: 'stop'};

const HARD_LIFETIME_MS = 240_000;
const SOCKET_OPTS = {linger: 200, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000, sendTimeout: 1000, maxMessageSize: 4 << 20};
const SECRET = Buffer.from('bench-secret-0123456789abcdef');
const KIND_SINK = 0;
const KIND_ECHO = 1;
const KIND_REPLY = 2;
const RAW_HEADER = 5;

/** What the drivers need from a client, identical for all modes. */
interface ClientSide {
  /** Turns a payload into whatever sink() sends repeatedly (built once per run). */
  prepare(payload: Buffer): Buffer;
  sink(msg: Buffer): boolean | Promise<boolean>;
  /** Resolves once the request is handed to the transport; `reply` settles with the echoed body. */
  echo(body: Buffer, timeoutMs: number): Promise<{reply: Promise<unknown>}>;
  asyncDrops(): number;
  close(): Promise<void>;
}

interface ServerSide {
  counts(): ServerCounts;
  reset(): void;
  close(): Promise<void>;
}

// ---- raw zeromq -----------------------------------------------------------------------------------

async function rawServer(): Promise<{side: ServerSide; address: string}> {
  const router = new zmq.Router({...SOCKET_OPTS, mandatory: true});
  await router.bind('tcp://127.0.0.1:0');
  let count = 0;
  let bytes = 0;
  let sendFailures = 0;
  // zeromq v6 allows one send in flight per socket: replies go through a minimal serial queue.
  const queue: Buffer[][] = [];
  let pumping = false;
  const pump = async (): Promise<void> => {
    pumping = true;
    while (queue.length > 0) {
      try {
        await router.send(queue.shift()!);
      } catch {
        sendFailures++;
      }
    }
    pumping = false;
  };
  void (async () => {
    try {
      for await (const [rid, msg] of router) {
        if (!rid || !msg || msg.length < RAW_HEADER) continue;
        if (msg[0] === KIND_SINK) {
          count++;
          bytes += msg.length - RAW_HEADER;
        } else if (msg[0] === KIND_ECHO) {
          msg[0] = KIND_REPLY;
          queue.push([rid, msg]);
          if (!pumping) void pump();
        }
      }
    } catch {
      // socket closed
    }
  })();
  return {
    address: router.lastEndpoint!,
    side: {
      counts: () => ({count, bytes, drops: nonZero({sendFailures})}),
      reset: () => {
        count = 0;
        bytes = 0;
      },
      close: async () => router.close(),
    },
  };
}

async function rawClient(address: string): Promise<ClientSide> {
  const dealer = new zmq.Dealer({...SOCKET_OPTS, immediate: true});
  dealer.connect(address);
  const waiters = new Map<number, (body: Buffer) => void>();
  let seq = 0;
  void (async () => {
    try {
      for await (const [msg] of dealer) {
        if (!msg || msg.length < RAW_HEADER || msg[0] !== KIND_REPLY) continue;
        const id = msg.readUInt32BE(1);
        const w = waiters.get(id);
        if (w) {
          waiters.delete(id);
          w(msg.subarray(RAW_HEADER));
        }
      }
    } catch {
      // socket closed
    }
  })();
  const side: ClientSide = {
    prepare(payload) {
      const msg = Buffer.allocUnsafe(RAW_HEADER + payload.length);
      msg[0] = KIND_SINK;
      msg.writeUInt32BE(0, 1);
      payload.copy(msg, RAW_HEADER);
      return msg;
    },
    async sink(msg) {
      try {
        await dealer.send(msg);
        return true;
      } catch {
        return false;
      }
    },
    async echo(body, timeoutMs) {
      const id = seq++ >>> 0;
      const msg = Buffer.allocUnsafe(RAW_HEADER + body.length);
      msg[0] = KIND_ECHO;
      msg.writeUInt32BE(id, 1);
      body.copy(msg, RAW_HEADER);
      const reply = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(id);
          reject(new Error(`raw echo ${id} timed out after ${timeoutMs}ms`));
        }, timeoutMs);
        waiters.set(id, (b) => {
          clearTimeout(timer);
          resolve(b);
        });
      });
      reply.catch(() => {});
      await dealer.send(msg);
      return {reply};
    },
    asyncDrops: () => 0,
    close: async () => dealer.close(),
  };
  // DEALER with immediate=true queues nothing until connected: wait for a first round trip.
  await roundTripUntilUp(side);
  return side;
}

async function roundTripUntilUp(side: ClientSide): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const {reply} = await side.echo(Buffer.alloc(0), 250);
      await reply;
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

// ---- swarm (Voyager) ------------------------------------------------------------------------------

/** `coalesce` false = one frame (one AEAD operation) per envelope; both ends of a pair use the same setting. */
function voyagerEndpoint(name: string, coalesce: boolean, bind?: {host: string; port: number}): {v: Voyager; firewall: Firewall} {
  const identity = generateIdentity();
  const admission = {psk: pskFromJoinSecret(SECRET), hasJoinSecret: true};
  let v: Voyager | undefined;
  const firewall = new Firewall({clock: Date.now, sink: {audit: () => {}}}, {knownType: (t) => v!.hasHandler(t), ratePerSec: 1e9, burst: 1e9});
  v = new Voyager({identity, admission, firewall, log: nullLogger}, {role: 'node', name, maxFrameBytes: 1 << 20, coalesce, ...(bind ? {bind} : {})});
  return {v, firewall};
}

function nonZero(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([, n]) => n > 0));
}

async function swarmServer(coalesce: boolean): Promise<{side: ServerSide; address: string}> {
  const {v, firewall} = voyagerEndpoint('bench-server', coalesce, {host: '127.0.0.1', port: 0});
  let count = 0;
  let bytes = 0;
  v.handle('bench.sink', (env) => {
    count++;
    bytes += (env.body as Buffer).length;
    return undefined;
  });
  v.handle('bench.echo', (env) => env.body);
  await v.start();
  return {
    address: v.listen,
    side: {
      counts: () => ({count, bytes, drops: nonZero(firewall.counters)}),
      reset: () => {
        count = 0;
        bytes = 0;
      },
      close: () => v.stop(),
    },
  };
}

async function swarmClient(address: string, coalesce: boolean): Promise<ClientSide> {
  const {v, firewall} = voyagerEndpoint('bench-client', coalesce);
  await v.start();
  v.connect(address);
  const peer = await v.waitForLink(address, {timeoutMs: 5000});
  const peerId = peer.id;
  return {
    prepare: (payload) => payload,
    sink: (msg) => v.send(peerId, 'bench.sink', msg),
    async echo(body, timeoutMs) {
      const reply = v.request(peerId, 'bench.echo', body, {timeoutMs});
      reply.catch(() => {});
      return {reply};
    },
    asyncDrops: () => firewall.counters.backpressure,
    close: () => v.stop(),
  };
}

// ---- drivers (shared by all modes) ---------------------------------------------------------------

const EMPTY = Buffer.alloc(0);

/**
 * Pipelined: sends `count` messages as fast as the transport accepts them, with an echo barrier every
 * `batch` messages; at most `window` barriers are outstanding. The clock stops when the last barrier
 * returns, i.e. once the receiver has handled every message sent before it (in-order link).
 */
async function throughput(side: ClientSide, p: ThroughputParams): Promise<ThroughputResult> {
  const msg = side.prepare(crypto.randomBytes(p.size));
  const barriers: Promise<unknown>[] = [];
  const drops0 = side.asyncDrops();
  let attempted = 0;
  let refused = 0;
  let timedOut = false;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + p.timeLimitMs;
  while (attempted < p.count) {
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    const n = Math.min(p.batch, p.count - attempted);
    for (let i = 0; i < n; i++) {
      let ok = side.sink(msg);
      if (typeof ok !== 'boolean') ok = await ok;
      if (!ok) refused++;
    }
    attempted += n;
    const {reply} = await side.echo(EMPTY, 10_000);
    barriers.push(reply);
    if (barriers.length >= p.window) await barriers.shift();
  }
  while (barriers.length > 0) await barriers.shift();
  const elapsedNs = Number(process.hrtime.bigint() - start);
  return {attempted, refused, asyncDrops: side.asyncDrops() - drops0, elapsedNs, timedOut};
}

/** Request/response with one request in flight; `warmup` round trips are run first and not recorded. */
async function latency(side: ClientSide, p: LatencyParams): Promise<LatencyResult> {
  const body = crypto.randomBytes(p.size);
  const samplesUs: number[] = [];
  const deadline = Date.now() + p.timeLimitMs;
  let timedOut = false;
  let start = process.hrtime.bigint();
  for (let i = 0; i < p.warmup + p.rounds; i++) {
    if (Date.now() > deadline) {
      timedOut = true;
      break;
    }
    if (i === p.warmup) start = process.hrtime.bigint();
    const t0 = process.hrtime.bigint();
    const {reply} = await side.echo(body, 5000);
    const got = (await reply) as Buffer;
    const t1 = process.hrtime.bigint();
    if (got.length !== body.length) throw new Error(`echo returned ${got.length} bytes, sent ${body.length}`);
    if (i >= p.warmup) samplesUs.push(Number(t1 - t0) / 1000);
  }
  return {samplesUs, elapsedNs: Number(process.hrtime.bigint() - start), timedOut};
}

// ---- IPC ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const [role, mode] = process.argv.slice(2) as [Role, Mode];
  if (!process.send || (role !== 'server' && role !== 'client') || !MODES.includes(mode)) {
    console.error(`usage: (forked with IPC) transport-peer.js <server|client> <${MODES.join('|')}>`);
    process.exit(2);
  }
  const send = (m: unknown): void => void process.send!(m);
  let server: ServerSide | undefined;
  let client: ClientSide | undefined;
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const guard = setTimeout(() => process.exit(code), 2000);
    guard.unref();
    try {
      await server?.close();
      await client?.close();
    } finally {
      // process.exit (not a signal) so --cpu-prof can write its profile.
      process.exit(code);
    }
  };
  setTimeout(() => void stop(3), HARD_LIFETIME_MS).unref();
  process.on('disconnect', () => void stop(0));

  if (role === 'server') {
    const s = mode === 'raw' ? await rawServer() : await swarmServer(mode === 'swarm');
    server = s.side;
    send({ready: true, address: s.address, pid: process.pid});
  } else {
    send({ready: true, pid: process.pid});
  }

  process.on('message', (raw: {id: number} & Call) => {
    void (async () => {
      try {
        let result: unknown;
        switch (raw.cmd) {
          case 'connect':
            client = mode === 'raw' ? await rawClient(raw.address) : await swarmClient(raw.address, mode === 'swarm');
            result = true;
            break;
          case 'throughput':
            result = await throughput(client!, raw.params);
            break;
          case 'latency':
            result = await latency(client!, raw.params);
            break;
          case 'reset':
            server!.reset();
            result = true;
            break;
          case 'counts':
            result = server!.counts();
            break;
          case 'stop':
            send({id: raw.id, ok: true, result: true});
            await stop(0);
            return;
        }
        send({id: raw.id, ok: true, result});
      } catch (err) {
        send({id: raw.id, ok: false, error: err instanceof Error ? err.message : String(err)});
      }
    })();
  });
}

void main().catch((err) => {
  console.error(`transport-peer: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
