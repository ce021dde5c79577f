import {spawn} from 'node:child_process';
import * as os from 'node:os';

import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import {UsageError} from '../../core/errors.js';
import {StreamRedactor} from '../../core/log/redactor.js';

/** NAME[=ENV]; ENV defaults to NAME upper-cased with other characters as "_" (github/token -> GITHUB_TOKEN). */
export function parseSecretFlag(s: string): {name: string; env: string} {
  const [name = '', env] = s.split('=', 2);
  const envName = env ?? name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envName)) throw new UsageError(`--secret ${s}: ${envName} is not a valid environment variable name; use NAME=ENV`);
  return {name, env: envName};
}

export default class VaultRun extends SwarmCommand {
  static override summary = 'Run a command with secrets in its environment only, its output redacted.';
  static override description = `Each --secret NAME[=ENV] puts the vault entry NAME into the command's environment as ENV (default: NAME upper-cased, other characters as _).
Secrets never appear in argv (so not in ps); the command's stdout and stderr pass through the redactor, which replaces each secret and its base64, hex and URL-encoded forms with [REDACTED].
Exit code: the command's own (128+N when killed by signal N); 2 bad flag, 3 no such entry, 5 vault locked or wrong passphrase.`;
  static override examples = ['<%= config.bin %> vault run --secret openai=OPENAI_API_KEY -- python agent.py', '<%= config.bin %> vault run --secret github/token -- gh repo list'];
  static override strict = false;
  static override flags = {...attachFlags, ...vaultFlags, secret: Flags.string({summary: 'Vault entry NAME (a name, never a value) to put in the environment as ENV: NAME[=ENV] (repeatable).', multiple: true, required: true})};

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(VaultRun);
    const command = (argv as string[]).filter((a) => a !== '--');
    if (command.length === 0) throw new UsageError('give the command after --, e.g. swarm vault run --secret api -- ./deploy.sh');
    const wanted = flags.secret.map(parseSecretFlag);
    const env: NodeJS.ProcessEnv = {...process.env};
    // Our own settings are not the command's business (SWARM_VAULT_PASSPHRASE_FILE least of all).
    for (const k of Object.keys(env)) if (k.startsWith('SWARM_')) delete env[k];
    await withVault(flags, this.dataDir(flags), async (v) => {
      for (const s of wanted) env[s.env] = await v.get(s.name);
    });
    const child = spawn(command[0]!, command.slice(1), {env, stdio: ['inherit', 'pipe', 'pipe']});
    const pipe = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream): Promise<void> => {
      const r = new StreamRedactor();
      from.on('data', (c: Buffer) => to.write(r.push(c)));
      return new Promise((resolve) => {
        const done = (): void => {
          to.write(r.end());
          resolve();
        };
        from.once('end', done);
        from.once('error', done);
      });
    };
    const drained = Promise.all([pipe(child.stdout!, process.stdout), pipe(child.stderr!, process.stderr)]);
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
    const code = await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        process.stderr.write(`swarm: cannot run ${command[0]}: ${err.message}\n`);
        resolve(127);
      });
      child.once('close', (c, sig) => resolve(c ?? 128 + (sig ? os.constants.signals[sig] : 0)));
    });
    await drained.catch(() => undefined);
    process.exitCode = code;
  }
}
