import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import type {VaultStatus} from '../../core/vault/vault-service.js';

export default class VaultLock extends SwarmCommand {
  static override summary = 'Lock the vault on the running node: the key is dropped from its memory.';
  static override description = 'Exit codes: 0 locked, 2 no node running.';
  static override examples = ['<%= config.bin %> vault lock'];
  static override flags = {...attachFlags, ...vaultFlags};

  async run(): Promise<VaultStatus> {
    const {flags} = await this.parse(VaultLock);
    const s = await withVault(flags, this.dataDir(flags), (v) => v.lock());
    if (!this.jsonEnabled()) this.log('vault locked');
    return s;
  }
}
