import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';

export default class VaultGet extends SwarmCommand {
  static override summary = 'Print a secret\'s value to stdout (and only there).';
  static override description = 'No trailing newline is added when stdout is not a terminal, so $(swarm vault get X) is exact.\nExit codes: 0 ok, 3 no such entry or no vault, 5 wrong passphrase, vault locked or tampered.';
  static override examples = ['<%= config.bin %> vault get openai', 'curl -H "Authorization: Bearer $(<%= config.bin %> vault get github/token)" ...'];
  static override args = {name: Args.string({required: true, description: 'Entry name.'})};
  static override flags = {...attachFlags, ...vaultFlags};

  async run(): Promise<{name: string; value: string}> {
    const {args, flags} = await this.parse(VaultGet);
    const value = await withVault(flags, this.dataDir(flags), (v) => v.get(args.name));
    if (!this.jsonEnabled()) process.stdout.write(process.stdout.isTTY ? `${value}\n` : value);
    return {name: args.name, value};
  }
}
