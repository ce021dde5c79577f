import {Args} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';

export default class VaultRm extends SwarmCommand {
  static override summary = 'Remove a secret from the vault.';
  static override description = 'Its last version is remembered, so the removed ciphertext can never be restored silently.\nExit codes: 0 removed, 3 no such entry, 5 wrong passphrase or vault locked.';
  static override examples = ['<%= config.bin %> vault rm openai'];
  static override args = {name: Args.string({required: true, description: 'Entry name.'})};
  static override flags = {...attachFlags, ...vaultFlags};

  async run(): Promise<{name: string; removed: true}> {
    const {args, flags} = await this.parse(VaultRm);
    const r = await withVault(flags, this.dataDir(flags), (v) => v.rm(args.name));
    if (!this.jsonEnabled()) this.log(`${r.name} removed`);
    return r;
  }
}
