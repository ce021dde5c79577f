import {execFileSync} from 'node:child_process';
import * as path from 'node:path';

test('committed man pages match the command metadata (run `npm run man` when this fails)', () => {
  const out = execFileSync(process.execPath, [path.join(process.cwd(), 'dist', 'scripts', 'gen-man.js'), '--check'], {encoding: 'utf8'});
  expect(out).toMatch(/man pages fresh \(\d+\)/);
});
