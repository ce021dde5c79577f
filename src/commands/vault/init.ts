import {Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {attachFlags} from '../../cli/flags.js';
import {passphrase} from '../../cli/secret-input.js';
import {vaultFlags, withVault} from '../../cli/vault-access.js';
import {UsageError} from '../../core/errors.js';
import {deriveKek, newKdfParams} from '../../core/vault/vault-crypto.js';
import type {VaultStatus} from '../../core/vault/vault-service.js';

export default class VaultInit extends SwarmCommand {
  static override summary = 'Create the credential vault, protected by a passphrase.';
  static override description = `On a terminal it asks for the passphrase twice (hidden), shows the key-derivation cost, and asks for an optional recovery hint.
Non-interactive: --passphrase-file FILE (0600) or SWARM_VAULT_PASSPHRASE_FILE. With neither and no terminal it stops (exit 2) rather than wait.
With a node running, the vault lives in the cluster's replicated store and this node stays unlocked; without one, in the data dir (vault.json).
The passphrase cannot be recovered: losing it loses the vault's contents.
Exit codes: 0 created, 2 no passphrase source or bad flag, 6 a vault already exists.`;
  static override examples = ['<%= config.bin %> vault init', '<%= config.bin %> vault init --passphrase-file ~/.swarm-pass --hint "the long one from the safe"'];
  static override flags = {
    ...attachFlags,
    ...vaultFlags,
    hint: Flags.string({summary: 'Recovery hint, stored in plaintext (never the passphrase itself).'}),
    'kdf-cost': Flags.integer({summary: 'scrypt cost as a power of two (N = 2^cost).', default: 15, min: 15, max: 22}),
  };

  async run(): Promise<VaultStatus> {
    const {flags} = await this.parse(VaultInit);
    const interactive = !flags['passphrase-file'] && Boolean(process.stdin.isTTY && process.stderr.isTTY);
    if (!flags['passphrase-file'] && !interactive) throw new UsageError('no passphrase: pass --passphrase-file FILE (or SWARM_VAULT_PASSPHRASE_FILE), or run on a terminal');
    let hint = flags.hint;
    if (interactive) {
      const kdf = newKdfParams({N: 2 ** flags['kdf-cost']});
      const t0 = process.hrtime.bigint();
      await deriveKek('calibration', kdf);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      process.stderr.write(`Key derivation: scrypt N=2^${flags['kdf-cost']} r=${kdf.r} p=${kdf.p}, about ${Math.round(ms)} ms per unlock on this machine.\n`);
    }
    const pass = await passphrase(flags['passphrase-file'], {confirm: interactive});
    if (interactive && hint === undefined) {
      const {input} = await import('@inquirer/prompts');
      hint = (await input({message: 'Recovery hint (optional, stored in plaintext)'}, {output: process.stderr})).trim() || undefined;
    }
    if (hint !== undefined && hint.length > 0 && pass.length >= 4 && hint.includes(pass)) throw new UsageError('the hint must not contain the passphrase');
    const status = await withVault(flags, this.dataDir(flags), (v) => v.init(pass, {...(hint ? {hint} : {}), kdfN: 2 ** flags['kdf-cost']}));
    if (!this.jsonEnabled()) this.log(`Vault created in ${status.where} (scrypt N=2^${Math.log2(status.kdf!.N)} r=${status.kdf!.r} p=${status.kdf!.p}). Keep the passphrase safe: it cannot be recovered.`);
    return status;
  }
}
