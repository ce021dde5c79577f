import {Flags} from '@oclif/core';

import {ExitCode, UsageError} from '../core/errors.js';

/** Flags shared by commands that attach to a node. */
export const attachFlags = {
  endpoint: Flags.string({
    summary: 'Remote node to attach to, tcp://host:port (over the authenticated transport).',
    description: 'Default: the local node\'s control socket in --data-dir.',
    env: 'SWARM_ENDPOINT',
    helpGroup: 'GLOBAL',
  }),
  'join-secret-file': Flags.file({
    summary: 'Cluster join secret file (0600); needed with --endpoint.',
    env: 'SWARM_JOIN_SECRET_FILE',
    helpGroup: 'GLOBAL',
  }),
  timeout: Flags.string({summary: 'How long to wait for the node, e.g. 5s.', default: '5s', env: 'SWARM_TIMEOUT', helpGroup: 'GLOBAL'}),
};

/** Parses repeated `k=v` labels into a record; a bad one is a usage error naming it. */
export function parseLabels(items: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items ?? []) {
    const m = /^([A-Za-z0-9][A-Za-z0-9._/-]{0,62})=(.{0,255})$/.exec(item);
    if (!m) throw new UsageError(`--label ${item}: expected key=value (key: letters, digits, . _ / -)`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** Flags shared by the kv commands. */
export const kvFlags = {
  namespace: Flags.string({char: 'n', summary: 'Key namespace.', default: 'default', env: 'SWARM_NAMESPACE'}),
};

/** Parses repeated `NAME=value` environment flags; the error names the variable, never its value. */
export function parseEnvFlags(items: string[] | undefined, flag = '--env'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of items ?? []) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`${flag} ${kv.split('=')[0]}: expected NAME=value`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** The exit code of a sandboxed command: its own when it ran to its end, else why the sandbox stopped it. */
export function sandboxExitCode(status: string | null, exitCode: number | null): number {
  switch (status) {
    case null:
      return exitCode ?? ExitCode.Internal;
    case 'timeout':
      return ExitCode.Timeout;
    case 'error':
      return ExitCode.Internal;
    default:
      return ExitCode.Refused;
  }
}
