import {Command, Flags} from '@oclif/core';
import type {Interfaces} from '@oclif/core';

import {resolveDataDir} from '../core/config/data-dir.js';
import {ExitCode, SwarmError} from '../core/errors.js';
import {processSecrets} from '../core/log/redactor.js';
import {configureColor} from './render.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof SwarmCommand)['baseFlags'] & T['flags']>;

/**
 * The one base of every swarm command: owns `--json`, the shared flags, colour, and the single
 * `catch()` that maps typed errors to documented exit codes and a one-line message
 * (JSON `{error: {code, message}}` on stderr under --json).
 */
export abstract class SwarmCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'data-dir': Flags.directory({
      summary: 'Node data directory (identity, join secret, control socket, logs).',
      description: 'Default: $XDG_DATA_HOME/swarm or ~/.local/share/swarm. Several local nodes run side by side with different data dirs.',
      env: 'SWARM_DATA_DIR',
      helpGroup: 'GLOBAL',
    }),
    'no-color': Flags.boolean({summary: 'Disable colour (also NO_COLOR=1).', helpGroup: 'GLOBAL', env: 'SWARM_NO_COLOR'}),
  };

  protected dataDir(flags: {'data-dir'?: string}): string {
    return resolveDataDir(flags['data-dir']);
  }

  override async init(): Promise<void> {
    await super.init();
    configureColor({noColorFlag: this.argv.includes('--no-color'), json: this.argv.includes('--json')});
  }

  override async catch(err: Error & {oclif?: {exit?: number}; code?: string}): Promise<void> {
    // oclif's own exit (this.exit()) and help requests pass through untouched.
    if (err.code === 'EEXIT') throw err;
    // A parse failure is reported here; stop oclif from also warning that nothing was parsed.
    this.parsed = true;
    let exitCode: number;
    let code: string;
    let message: string;
    if (err instanceof SwarmError) {
      exitCode = err.exitCode;
      code = err.code;
      message = err.message;
    } else if (err.oclif?.exit === 2 || err.name === 'CLIParseError' || /Parse|Flag|Args/.test(err.constructor?.name ?? '')) {
      exitCode = ExitCode.Usage;
      code = 'usage';
      message = `${parseFailure(err.message ?? '')} (see --help)`;
    } else {
      exitCode = ExitCode.Internal;
      code = 'internal';
      message = `internal error: ${(err.message ?? String(err)).split('\n')[0]}`;
    }
    // The one redactor: secrets this process has held never reach an error message.
    message = processSecrets.redact(message);
    if (this.jsonEnabled()) process.stderr.write(JSON.stringify({error: {code, message}}) + '\n');
    else process.stderr.write(`swarm: ${message}\n`);
    process.exitCode = exitCode;
  }
}

/**
 * oclif's parse errors span lines ("Parsing --parts", then the reason on the next line, then a help
 * hint); the first line alone says nothing. One line: "--parts: Expected an integer ... received: 0".
 */
export function parseFailure(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^See more help/.test(l));
  const flag = /^Parsing (\S+)$/.exec(lines[0] ?? '');
  if (flag) return [`${flag[1]}:`, ...lines.slice(1)].join(' ');
  return lines.join(': ');
}
