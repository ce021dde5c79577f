import {Args, Flags} from '@oclif/core';

import {SwarmCommand} from '../../cli/base-command.js';
import {withNode} from '../../cli/attach-flags-run.js';
import {attachFlags, kvFlags} from '../../cli/flags.js';
import {kvOutcome} from '../../cli/kv-outcome.js';
import type {KvResult} from '../../core/consensus/kv/kv-store.js';

export default class KvPut extends SwarmCommand {
  static override summary = 'Write a key in the replicated store (through Raft).';
  static override description = `VALUE "-" reads the value from stdin. --if-version makes it a compare-and-swap (0 = only if the key does not exist).
Exit codes: 0 written, 2 bad input, 6 version mismatch or no leader, 7 no quorum in time (the write may still apply).`;
  static override examples = ['<%= config.bin %> kv put config/mode fast', 'echo -n fast | <%= config.bin %> kv put config/mode -', '<%= config.bin %> kv put lock/a me --if-version 0'];
  static override args = {key: Args.string({required: true}), value: Args.string({required: true, description: 'The value, or - for stdin.'})};
  static override flags = {...attachFlags, ...kvFlags, 'if-version': Flags.integer({summary: 'Only write if the key is at this version (0: absent).', min: 0})};

  async run(): Promise<KvResult> {
    const {args, flags} = await this.parse(KvPut);
    const value = args.value === '-' ? await readStdin() : args.value;
    const r = await withNode(flags, this.dataDir(flags), (c) =>
      c.call('kv.put', {namespace: flags.namespace, key: args.key, value, ...(flags['if-version'] !== undefined ? {ifVersion: flags['if-version']} : {})}),
    );
    kvOutcome(r, `${flags.namespace}/${args.key}`);
    if (!this.jsonEnabled() && r.ok) this.log(`OK revision ${r.revision} version ${r.version}`);
    return r;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
