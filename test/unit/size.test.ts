import {parseSizeBytes} from '../../src/core/config/size.js';
import {UsageError} from '../../src/core/errors.js';

test.each([
  ['4096', 4096],
  ['64k', 65536],
  ['64KiB', 65536],
  ['512m', 512 * 2 ** 20],
  ['1g', 2 ** 30],
  ['1.5G', 1.5 * 2 ** 30],
])('%s -> %d bytes', (t, n) => expect(parseSizeBytes(t, '--memory')).toBe(n));

test.each(['', 'lots', '-1m', '0', '5t'])('"%s" is a usage error naming the flag', (t) => {
  expect(() => parseSizeBytes(t, '--memory')).toThrow(UsageError);
  expect(() => parseSizeBytes(t, '--memory')).toThrow(/--memory/);
});
