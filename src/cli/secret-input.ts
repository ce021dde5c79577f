import * as fs from 'node:fs';

import {readSecretFile} from '../core/config/secure-file.js';
import {UsageError} from '../core/errors.js';

/**
 * Where secret input comes from, never argv: a 0600 file (--passphrase-file, --from-file), a hidden
 * prompt on a terminal, or stdin when piped. With none of these the command stops with a usage
 * error (exit 2) instead of waiting for input that will never come.
 */
const interactive = (): boolean => Boolean(process.stdin.isTTY && process.stderr.isTTY);

/** A passphrase file's content without its final newline (as `echo pass > file` writes it). */
export function readPassphraseFile(file: string, flag: string): string {
  return readSecretFile(file, flag).toString('utf8').replace(/\r?\n$/, '');
}

export async function promptHidden(message: string): Promise<string> {
  const {password} = await import('@inquirer/prompts');
  return password({message, mask: '*'}, {output: process.stderr});
}

/** The vault passphrase: from the file flag, else a hidden prompt on a terminal. */
export async function passphrase(file: string | undefined, opts: {confirm?: boolean} = {}): Promise<string> {
  if (file) return readPassphraseFile(file, '--passphrase-file');
  if (!interactive()) throw new UsageError('no passphrase: pass --passphrase-file FILE (or SWARM_VAULT_PASSPHRASE_FILE), or run on a terminal');
  const first = await promptHidden('Vault passphrase');
  if (opts.confirm) {
    const again = await promptHidden('Repeat the passphrase');
    if (again !== first) throw new UsageError('the passphrases differ; nothing was changed');
  }
  return first;
}

/** A secret value: --from-file, a hidden prompt on a terminal, or all of stdin when piped. */
export async function secretValue(name: string, fromFile: string | undefined): Promise<string> {
  if (fromFile) {
    try {
      return fs.readFileSync(fromFile, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new UsageError(`--from-file: cannot read ${fromFile}; check the path`);
    }
  }
  if (interactive()) return promptHidden(`Value for ${name}`);
  if (process.stdin.isTTY) throw new UsageError('no value: pipe it on stdin or pass --from-file FILE');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const value = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (value.length === 0) throw new UsageError('no value on stdin (it was empty); pipe the value in or pass --from-file FILE');
  return value;
}
