import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {keyValues} from '../../cli/render.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import type {VaultStatus} from '../../core/vault/vault-service.js';

export default class VaultStatusCommand extends SwarmCommand {
  static override summary = 'Show whether the vault exists, where, whether it is unlocked, its KDF cost and hint.';
  static override description = 'Exit codes: 0 ok, 4 --endpoint unreachable.';
  static override examples = ['<%= config.bin %> vault status --json'];
  static override flags = {...attachFlags, ...vaultFlags};

  async run(): Promise<VaultStatus> {
    const {flags} = await this.parse(VaultStatusCommand);
    const s = await withVault(flags, this.dataDir(flags), (v) => v.status());
    if (!this.jsonEnabled()) {
      this.log(
        keyValues([
          ['Initialised', s.initialised ? 'yes' : 'no (swarm vault init)'],
          ['Where', s.where],
          ['Locked', s.locked ? 'yes' : `no${s.locksAt ? ` (locks at ${s.locksAt})` : ''}`],
          ['Entries', String(s.entries)],
          ['Generation', String(s.generation ?? '-')],
          ['KDF', s.kdf ? `${s.kdf.alg} N=2^${Math.log2(s.kdf.N)} r=${s.kdf.r} p=${s.kdf.p}` : '-'],
          ['Hint', s.hint ?? '-'],
        ]).trimEnd(),
      );
    }
    return s;
  }
}
