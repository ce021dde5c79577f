import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {passphrase} from '../../cli/secret-input.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import {parseDurationMs} from '../../core/config/duration.js';
import {UsageError} from '../../core/errors.js';
import type {VaultStatus} from '../../core/vault/vault-service.js';

export default class VaultUnlock extends SwarmCommand {
  static override summary = 'Unlock the vault on the running node: it holds the key in memory until locked, stopped, or --lock-after.';
  static override description = 'Tasks on this node can then use vault:NAME references. Needs a running node.\nExit codes: 0 unlocked, 2 no passphrase source or no node, 5 wrong passphrase (nothing changed) or tampered vault.';
  static override examples = ['<%= config.bin %> vault unlock', '<%= config.bin %> vault unlock --lock-after 15m --passphrase-file ~/.swarm-pass'];
  static override flags = {...attachFlags, ...vaultFlags, 'lock-after': Flags.string({summary: 'Lock again after this long (e.g. 15m); default: until locked or the node stops.'})};

  async run(): Promise<VaultStatus> {
    const {flags} = await this.parse(VaultUnlock);
    const after = flags['lock-after'] ? parseDurationMs(flags['lock-after'], '--lock-after') : undefined;
    return withVault(flags, this.dataDir(flags), async (v) => {
      if (v.mode === 'local') throw new UsageError('vault unlock needs a running node (it holds the key in memory); without one, every command asks for the passphrase');
      const s = await v.unlock(await passphrase(flags['passphrase-file']), after);
      if (!this.jsonEnabled()) this.log(`vault unlocked${s.locksAt ? ` until ${s.locksAt}` : ''} (${s.entries} entries)`);
      return s;
    });
  }
}
