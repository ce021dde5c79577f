import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {table} from '../../cli/render.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import type {EntryInfo} from '../../core/vault/vault.js';

export default class VaultList extends SwarmCommand {
  static override summary = 'List the vault\'s entries: names, versions and dates, never values.';
  static override description = 'Works while the vault is locked (names are not secret).\nExit codes: 0 ok, 3 no vault.';
  static override examples = ['<%= config.bin %> vault list', '<%= config.bin %> vault list --json'];
  static override flags = {...attachFlags, ...vaultFlags};

  async run(): Promise<EntryInfo[]> {
    const {flags} = await this.parse(VaultList);
    const entries = await withVault(flags, this.dataDir(flags), (v) => v.list());
    if (!this.jsonEnabled()) this.log(entries.length === 0 ? 'No entries.' : table(['NAME', 'VERSION', 'CREATED', 'UPDATED'], entries.map((e) => [e.name, String(e.version), e.created, e.updated])).trimEnd());
    return entries;
  }
}
