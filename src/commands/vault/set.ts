import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {secretValue} from '../../cli/secret-input.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import type {EntryInfo} from '../../core/vault/vault.js';

export default class VaultSet extends SwarmCommand {
  static override summary = 'Store a secret in the vault (a new version if NAME exists).';
  static override description = `The value is read from a hidden prompt on a terminal, from stdin when piped, or from --from-file; never from the command line (argv is visible to every user in ps).
Exit codes: 0 stored, 2 no value or bad name, 5 wrong passphrase or vault locked, 3 no vault.`;
  static override examples = ['<%= config.bin %> vault set openai', 'printf %s "$TOKEN" | <%= config.bin %> vault set github/token', '<%= config.bin %> vault set gcp/sa --from-file sa.json'];
  static override args = {name: Args.string({required: true, description: 'Entry name (letters, digits, . _ / -).'})};
  static override flags = {...attachFlags, ...vaultFlags, 'from-file': Flags.file({summary: 'Read the value from this file.'})};

  async run(): Promise<EntryInfo> {
    const {args, flags} = await this.parse(VaultSet);
    return withVault(flags, this.dataDir(flags), async (v) => {
      // The passphrase prompt (local mode) comes after the value, so piped stdin is the value.
      const value = await secretValue(args.name, flags['from-file']);
      const e = await v.set(args.name, value);
      if (!this.jsonEnabled()) this.log(`${e.name} stored (version ${e.version})`);
      return e;
    });
  }
}
