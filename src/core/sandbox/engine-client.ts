import * as http from 'node:http';
import type {Readable, Writable} from 'node:stream';

/**
 * The few Docker Engine API calls a sandbox run makes (create, attach, wait, start, kill, inspect,
 * remove, ping), over the engine's unix socket with node:http. Why not dockerode on this path: loading
 * it pulls in gRPC, protobuf and ssh2 for features a run never uses, 150-550 ms of every
 * `swarm sandbox run`, which made it 1.3x `docker run`; dockerode stays for image handling in tests.
 */
export interface ContainerInfo {
  Id?: string;
  State?: {Pid?: number; OOMKilled?: boolean; ExitCode?: number; Running?: boolean};
}

export interface EngineContainer {
  readonly id: string;
  attach(): Promise<Readable>;
  wait(condition: 'next-exit' | 'not-running'): Promise<{StatusCode?: number}>;
  start(): Promise<void>;
  kill(): Promise<void>;
  inspect(): Promise<ContainerInfo>;
  remove(): Promise<void>;
}

export interface Engine {
  ping(): Promise<void>;
  createContainer(spec: Record<string, unknown>): Promise<EngineContainer>;
}

/** An engine answer outside 2xx: the engine's own message, and its status. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** DOCKER_HOST as a socket path (unix:// only; a TCP engine needs TLS settings this client does not take). */
export function engineSocket(socketPath?: string): string {
  if (socketPath) return socketPath;
  const host = process.env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new EngineError(0, `DOCKER_HOST=${host}: only unix:// engines are supported by the sandbox runner`);
}

export class EngineClient implements Engine {
  private readonly agent = new http.Agent({keepAlive: true});

  constructor(readonly socketPath: string = engineSocket()) {}

  /** One call; the body of a 2xx answer as parsed JSON (or the raw stream when `stream`). */
  private call(method: string, path: string, opts: {body?: unknown; stream: true}): Promise<Readable>;
  private call(method: string, path: string, opts?: {body?: unknown; stream?: false}): Promise<unknown>;
  private call(method: string, path: string, opts: {body?: unknown; stream?: boolean} = {}): Promise<unknown> {
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {socketPath: this.socketPath, method, path, agent: this.agent, headers: body ? {'Content-Type': 'application/json', 'Content-Length': body.length} : {}},
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300 && opts.stream) {
            resolve(res);
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (status === 304 || (status >= 200 && status < 300)) {
              try {
                resolve(text ? (JSON.parse(text) as unknown) : undefined);
              } catch {
                resolve(text);
              }
              return;
            }
            let msg = text.trim();
            try {
              msg = (JSON.parse(text) as {message?: string}).message ?? msg;
            } catch {
              // not JSON: the text as it is
            }
            reject(new EngineError(status, `(HTTP code ${status}) ${msg}`));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async ping(): Promise<void> {
    await this.call('GET', '/_ping');
  }

  async createContainer(spec: Record<string, unknown>): Promise<EngineContainer> {
    const r = (await this.call('POST', '/containers/create', {body: spec})) as {Id: string};
    return this.container(r.Id);
  }

  container(id: string): EngineContainer {
    const at = `/containers/${encodeURIComponent(id)}`;
    return {
      id,
      attach: () => this.call('POST', `${at}/attach?stream=1&stdout=1&stderr=1`, {stream: true}),
      wait: async (condition) => (await this.call('POST', `${at}/wait?condition=${condition}`)) as {StatusCode?: number},
      start: async () => void (await this.call('POST', `${at}/start`)),
      kill: async () => void (await this.call('POST', `${at}/kill`)),
      inspect: async () => (await this.call('GET', `${at}/json`)) as ContainerInfo,
      remove: async () => void (await this.call('DELETE', `${at}?force=1&v=1`)),
    };
  }

  /** Closes idle keep-alive connections (so a CLI process can exit at once). */
  close(): void {
    this.agent.destroy();
  }
}

/**
 * Splits the engine's multiplexed attach stream (no TTY): frames of an 8-byte header (stream type,
 * 3 zero bytes, big-endian length) and that many bytes, 1 = stdout, 2 = stderr.
 */
export function demux(stream: Readable, stdout: Writable, stderr: Writable): void {
  let buf: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const payload = buf.subarray(8, 8 + size);
      if (buf[0] === 2) stderr.write(payload);
      else stdout.write(payload);
      buf = buf.subarray(8 + size);
    }
  });
}
