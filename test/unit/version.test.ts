import * as fs from 'node:fs';

import {VERSION} from '../../src/core/version.js';

test('VERSION equals package.json version', () => {
  expect(VERSION).toBe(JSON.parse(fs.readFileSync('package.json', 'utf8')).version);
});
