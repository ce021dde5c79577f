import {spawn} from 'node:child_process';
import * as fs from 'node:fs';

import {attachSocket} from '../client/attach.js';
import {dataFile, ensureDataDir} from '../config/data-dir.js';
import {TimeoutError, UsageError} from '../errors.js';
import type {NodeStatus} from './control-types.js';
import {NODE_V8_FLAGS, nodeProcessEnv} from './process-settings.js';

/**
 * Starts `argv` (a foreground `node start`) as a detached background process logging to the data
 * dir's node.log, and returns once the node answers on its control socket.
 */
export async function startDetached(opts: {execPath: string; script: string; argv: string[]; dataDir: string; timeoutMs: number}): Promise<NodeStatus> {
  ensureDataDir(opts.dataDir);
  const logFile = dataFile(opts.dataDir, 'log');
  const out = fs.openSync(logFile, 'a', 0o600);
  const env = nodeProcessEnv({...process.env});
  delete env.SWARM_DETACH; // the child runs in the foreground of its own session
  const child = spawn(opts.execPath, [...NODE_V8_FLAGS, opts.script, ...opts.argv], {detached: true, stdio: ['ignore', out, out], env});
  fs.closeSync(out);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + opts.timeoutMs;
  const socket = dataFile(opts.dataDir, 'controlSocket');
  while (Date.now() < deadline) {
    if (exited !== null) {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
      throw new UsageError(`node exited at start (code ${exited}): ${tail.slice(0, 300)}; see ${logFile}`);
    }
    try {
      const client = await attachSocket(socket, 1000);
      try {
        const status = await client.call('status', null);
        if (status.pid === child.pid) return status;
      } finally {
        await client.close();
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TimeoutError(`node did not answer within ${opts.timeoutMs}ms; see ${logFile}`);
}
