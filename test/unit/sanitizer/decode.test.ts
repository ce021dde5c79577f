import {DecodeBudget, decodeToken, findBlobs, readable} from '../../../src/core/security/sanitizer/decode.js';

describe('embedded blobs', () => {
  const text = 'the quick brown fox jumps over the lazy dog';

  test('base64, base64url, hex and percent-encoding that decode to text are found', () => {
    expect(decodeToken(Buffer.from(text).toString('base64'), 4096)).toEqual({encoding: 'base64', text});
    expect(decodeToken(Buffer.from(text + '??>>').toString('base64url'), 4096)?.encoding).toBe('base64url');
    expect(decodeToken(Buffer.from(text).toString('hex'), 4096)).toEqual({encoding: 'hex', text});
    expect(decodeToken('q=the%20quick%20brown%20fox', 4096)).toEqual({encoding: 'url', text: 'q=the quick brown fox'});
  });

  test('binary (images, digests, random bytes) is not text', () => {
    expect(readable(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]))).toBeUndefined();
    expect(decodeToken('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', 4096)).toBeUndefined();
    expect(decodeToken('AAAAAAAAAAAAAAAAAAAAAAAA', 4096)).toBeUndefined();
  });

  test('blobs are found in context with their spans; word-internal runs are not', () => {
    const b64 = Buffer.from(text).toString('base64');
    const s = `x=${b64} and ${'a'.repeat(30)}`;
    const blobs = findBlobs(s, new DecodeBudget(65536, 1 << 20, 64));
    expect(blobs).toEqual([{span: {start: 2, end: 2 + b64.length}, encoding: 'base64', text}]);
  });

  test('the budget bounds how many blobs and bytes are decoded', () => {
    const b64 = Buffer.from(text).toString('base64');
    const budget = new DecodeBudget(65536, 1 << 20, 3);
    expect(findBlobs(Array(10).fill(b64).join(' '), budget)).toHaveLength(3);
    expect(budget.limited).toBe(true);
    const small = new DecodeBudget(65536, 50, 64);
    expect(findBlobs(Array(10).fill(b64).join(' '), small)).toHaveLength(1);
  });
});
