import {formatDurationMs, parseDurationMs} from '../../src/core/config/duration.js';
import {UsageError} from '../../src/core/errors.js';

describe('durations', () => {
  test.each([
    ['250', 250],
    ['250ms', 250],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
  ])('%s -> %d ms', (text, ms) => expect(parseDurationMs(text, '--x')).toBe(ms));

  test.each(['', 'abc', '-1s', '0', '2d', '1e3'])('"%s" is a usage error naming the flag', (text) => {
    expect(() => parseDurationMs(text, '--suspect-after')).toThrow(UsageError);
    expect(() => parseDurationMs(text, '--suspect-after')).toThrow(/--suspect-after/);
  });

  test('formats', () => {
    expect(formatDurationMs(12)).toBe('12ms');
    expect(formatDurationMs(2500)).toBe('2.5s');
    expect(formatDurationMs(90_000)).toBe('1.5m');
  });
});
