import {attach} from '../core/client/attach.js';
import type {NodeClient} from '../core/client/attach.js';
import {parseDurationMs} from '../core/config/duration.js';

/** Attaches with the shared flags, runs `fn`, always closes the client. */
export async function withNode<T>(
  flags: {endpoint?: string; 'join-secret-file'?: string; timeout: string},
  dataDir: string,
  fn: (client: NodeClient, timeoutMs: number) => Promise<T>,
): Promise<T> {
  const timeoutMs = parseDurationMs(flags.timeout, '--timeout');
  const client = await attach({
    dataDir,
    timeoutMs,
    ...(flags.endpoint ? {endpoint: flags.endpoint} : {}),
    ...(flags['join-secret-file'] ? {joinSecretFile: flags['join-secret-file']} : {}),
  });
  try {
    return await fn(client, timeoutMs);
  } finally {
    await client.close();
  }
}
