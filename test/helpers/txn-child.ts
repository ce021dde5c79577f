/**
 * Child process for the storage crash tests (dist/test/helpers/txn-child.js, built by `npx tsc -p .`):
 *
 *   node txn-child.js commit <root>          the fixture's scenario transaction (test/unit/storage/fixture.ts)
 *   node txn-child.js recover <root>         recovery only
 *   node txn-child.js increment <root> <n>   n read-modify-write transactions on a counter and a history file
 *
 * SWARM_FAULT (e.g. txn:mid-apply:3) makes it kill -9 itself at that step. Prints one JSON line:
 * {"ok":true,...} and exits 0, or {"error":"..."} and exits 1.
 */
import {recoverTransactions, runTransaction, StateTransaction} from '../../src/core/storage/index.js';
import {scenario} from '../unit/storage/fixture.js';

function main(): object {
  const [mode, root, count] = process.argv.slice(2);
  if (root === undefined) throw new Error('usage: txn-child.js commit|recover|increment <root> [n]');
  switch (mode) {
    case 'commit': {
      const tx = StateTransaction.begin(root);
      scenario(tx);
      return tx.commit();
    }
    case 'recover':
      return recoverTransactions(root);
    case 'increment': {
      const n = Number(count ?? '1');
      for (let i = 0; i < n; i++) {
        runTransaction(root, (tx) => {
          const v = Number(tx.read('counter')?.toString() ?? '0');
          const history = tx.read('history')?.toString() ?? '';
          tx.write('counter', String(v + 1));
          tx.write('history', `${history}${process.pid}:${i}:${v + 1}\n`);
        });
      }
      return {n};
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

try {
  process.stdout.write(`${JSON.stringify({ok: true, ...main()})}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({error: e instanceof Error ? `${e.name}: ${e.message}` : String(e)})}\n`);
  process.exitCode = 1;
}
