import * as fs from 'node:fs';
import * as net from 'node:net';

import {ConflictError, SwarmError} from '../errors.js';
import type {Logger} from '../log/logger.js';
import {processSecrets} from '../log/redactor.js';
import {isControlMethod} from './control-types.js';
import type {ControlMethod} from './control-types.js';

/** The line protocol on the control socket: one JSON request per line, one JSON response per line. */
export interface ControlRequest {
  id: number;
  method: ControlMethod;
  params?: unknown;
}
export type ControlResponse = {id: number; ok: true; result: unknown} | {id: number; ok: false; error: {code: string; message: string}};

const MAX_LINE_BYTES = 64 * 1024;

/**
 * Serves the control API on a Unix socket in the data dir, mode 0600 (only the node's user may
 * drive it). The socket is created under a restrictive umask so there is no window where it is open.
 */
export class ControlServer {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly components: {
      log: Logger;
      call: (method: ControlMethod, params: unknown) => Promise<unknown>;
      /** Streams events for a `watch` request until the connection closes; returns the unsubscribe. */
      watch: (params: unknown, emit: (event: unknown) => void) => () => void;
    },
    private readonly socketPath: string,
  ) {}

  async start(): Promise<void> {
    if (fs.existsSync(this.socketPath)) {
      // A live socket means another node owns this data dir; a dead one is left by a crash.
      if (await answers(this.socketPath)) throw new ConflictError(`a node is already running with this data dir (${this.socketPath}); stop it or pass another --data-dir`);
      fs.unlinkSync(this.socketPath);
    }
    const server = net.createServer((sock) => this.serve(sock));
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => resolve());
      });
    } finally {
      process.umask(oldMask);
    }
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.socketPath, {force: true});
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE_BYTES) {
        sock.end(JSON.stringify({id: 0, ok: false, error: {code: 'usage', message: 'request too large'}}) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.answer(sock, line);
      }
    });
  }

  private async answer(sock: net.Socket, line: string): Promise<void> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
      if (typeof req.id === 'number' && (req.method as string) === WATCH_METHOD) return this.startWatch(sock, req);
      if (typeof req.id !== 'number' || !isControlMethod(req.method)) throw new Error('bad request');
    } catch {
      sock.write(JSON.stringify({id: 0, ok: false, error: {code: 'usage', message: 'malformed control request'}}) + '\n');
      return;
    }
    let res: ControlResponse;
    try {
      res = {id: req.id, ok: true, result: await this.components.call(req.method, req.params ?? null)};
    } catch (err) {
      const e = errorBody(err);
      if (!(err instanceof SwarmError)) this.components.log.error('control call failed', {method: req.method, err: String(err)});
      res = {id: req.id, ok: false, error: e};
    }
    if (!sock.destroyed) sock.write(JSON.stringify(res) + '\n');
  }

  private startWatch(sock: net.Socket, req: ControlRequest): void {
    let stop: () => void;
    try {
      stop = this.components.watch(req.params ?? null, (event) => {
        if (!sock.destroyed) sock.write(JSON.stringify({id: req.id, event}) + '\n');
      });
    } catch (err) {
      sock.write(JSON.stringify({id: req.id, ok: false, error: errorBody(err)}) + '\n');
      return;
    }
    sock.once('close', () => stop());
    sock.write(JSON.stringify({id: req.id, ok: true, result: {watching: true}}) + '\n');
  }
}

/** The one streaming call: the response line, then one `{id, event}` line per change until the client hangs up. */
export const WATCH_METHOD = 'kv.watch';

function errorBody(err: unknown): {code: string; message: string} {
  // A message may quote operator input (a key, a name) that happens to be a secret value.
  return err instanceof SwarmError ? {code: err.code, message: processSecrets.redact(err.message)} : {code: 'internal', message: 'internal error'};
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
