import {readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {runScript} from './script-util.js';

// Data-driven interaction scripts (testdata/*.txt). SWARM_REWRITE=1 rewrites the expected outputs
// with the actual ones; review the diff before keeping it.
const dir = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('raft interaction scripts (testdata/*.txt)', () => {
  test.each(files)('%s', (file) => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const {blocks, rewritten} = runScript(text);
    if (process.env['SWARM_REWRITE'] === '1') {
      if (rewritten !== text) writeFileSync(path, rewritten);
      return;
    }
    for (const b of blocks) expect({command: b.command, output: b.actual}).toEqual({command: b.command, output: b.expected});
  });
});
