import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import type {VaultStatus} from '../../core/vault/vault-service.js';

export default class VaultRotate extends SwarmCommand {
  static override summary = 'Re-key the vault: a new data key, every entry re-encrypted, in one atomic step.';
  static override description = 'A crash at any point leaves the vault wholly under the old key or wholly under the new one. The passphrase is unchanged.\nExit codes: 0 rotated, 5 wrong passphrase, vault locked or tampered, 3 no vault.';
  static override examples = ['<%= config.bin %> vault rotate'];
  static override flags = {...attachFlags, ...vaultFlags};

  async run(): Promise<VaultStatus> {
    const {flags} = await this.parse(VaultRotate);
    const s = await withVault(flags, this.dataDir(flags), (v) => v.rotate());
    if (!this.jsonEnabled()) this.log(`vault re-keyed: generation ${s.generation}, ${s.entries} entries re-encrypted`);
    return s;
  }
}
