import * as fs from 'node:fs';
import * as net from 'node:net';

import {dataFile} from '../config/data-dir.js';
import {ConflictError, NotFoundError, RefusedError, SwarmError, TimeoutError, UnreachableError, UsageError} from '../errors.js';
import type {ControlMethod, ControlParams, ControlResult} from '../node/control-types.js';
import type {ControlResponse} from '../node/control-server.js';
import {WATCH_METHOD} from '../node/control-server.js';
import type {KvEvent} from '../consensus/kv/kv-store.js';

/** How a command talks to a running node: its control socket, or a remote endpoint. */
export interface NodeClient {
  call<M extends ControlMethod>(method: M, params: ControlParams<M>, options?: {timeoutMs?: number}): Promise<ControlResult<M>>;
  /** Streams KV events under a prefix to `onEvent`; resolves when the node closes the stream. */
  watch(params: {namespace: string; prefix: string}, onEvent: (event: KvEvent) => void): Promise<void>;
  close(): Promise<void>;
}

export interface AttachOptions {
  dataDir: string;
  /** tcp://host:port of a remote node, reached over the authenticated transport. */
  endpoint?: string;
  /** Join secret for a remote endpoint; default: the data dir's join.secret. */
  joinSecretFile?: string;
  timeoutMs?: number;
}

/** Maps a remote error code back to the typed error (and so the exit code) it came from. */
export function errorFromCode(code: string, message: string): SwarmError {
  switch (code) {
    case 'usage':
      return new UsageError(message);
    case 'refused':
      return new RefusedError(message);
    case 'timeout':
      return new TimeoutError(message);
    case 'not_found':
      return new NotFoundError(message);
    case 'conflict':
      return new ConflictError(message);
    case 'unreachable':
      return new UnreachableError(message);
    default:
      return new UnreachableError(`node answered with an error: ${message}`);
  }
}

export async function attach(opts: AttachOptions): Promise<NodeClient> {
  if (opts.endpoint) {
    const {attachRemote} = await import('./remote.js');
    return attachRemote(opts);
  }
  return attachSocket(dataFile(opts.dataDir, 'controlSocket'), opts.timeoutMs ?? 5000);
}

/** Connects to the control socket; UnreachableError (exit 4) when no node runs there. */
export async function attachSocket(socketPath: string, timeoutMs: number): Promise<NodeClient> {
  if (!fs.existsSync(socketPath)) {
    throw new UnreachableError(`no node running with data dir ${socketPath.replace(/\/control\.sock$/, '')}; start one with: swarm node start`);
  }
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new UnreachableError(`cannot reach the node's control socket ${socketPath} (${err.code ?? 'error'}); is it running?`)),
    );
  });
  sock.setEncoding('utf8');
  const waiting = new Map<number, (res: ControlResponse) => void>();
  const streams = new Map<number, (event: KvEvent) => void>();
  let buf = '';
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const res = JSON.parse(line) as ControlResponse | {id: number; event: KvEvent};
        if ('event' in res) streams.get(res.id)?.(res.event);
        else waiting.get(res.id)?.(res);
      } catch {
        // A garbled line from the node is ignored; the caller times out.
      }
    }
  });
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => sock.destroy());
  let seq = 1;
  return {
    call: (method, params, options) =>
      new Promise((resolve, reject) => {
        const id = seq++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new TimeoutError(`node did not answer ${method} within ${options?.timeoutMs ?? timeoutMs}ms`));
        }, options?.timeoutMs ?? timeoutMs);
        waiting.set(id, (res) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (res.ok) resolve(res.result as ControlResult<typeof method>);
          else reject(errorFromCode(res.error.code, res.error.message));
        });
        sock.write(JSON.stringify({id, method, params}) + '\n');
        closed.then(() => {
          if (waiting.has(id)) {
            clearTimeout(timer);
            waiting.delete(id);
            if (method === 'stop') resolve({stopping: true} as ControlResult<typeof method>);
            else reject(new UnreachableError('node closed the control connection'));
          }
        });
      }),
    watch: (params, onEvent) =>
      new Promise((resolve, reject) => {
        const id = seq++;
        waiting.set(id, (res) => {
          waiting.delete(id);
          if (!res.ok) reject(errorFromCode(res.error.code, res.error.message));
        });
        streams.set(id, onEvent);
        sock.write(JSON.stringify({id, method: WATCH_METHOD, params}) + '\n');
        void closed.then(() => resolve());
      }),
    close: async () => {
      sock.end();
      sock.destroy();
    },
  };
}
