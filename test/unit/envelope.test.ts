import {Packr} from 'msgpackr';

import {batchPieces, decodeBatch, decodeEnvelope, encodeBatch, encodeEnvelope, encodeEnvelopePieces, SPLIT_BINARY_BYTES, validateEnvelope} from '../../src/core/transport/envelope.js';
import type {Envelope} from '../../src/core/transport/envelope.js';

const good: Envelope = {v: 1, type: 'membership.ping', id: 'abc1', from: 'aa'.repeat(16), to: 'bb'.repeat(16), ts: 1_700_000_000_000, body: {members: []}};
const packr = new Packr({useRecords: false});

describe('envelope codec', () => {
  test('round-trips a well-formed envelope', () => {
    expect(decodeEnvelope(encodeEnvelope(good))).toEqual(good);
  });

  const bad: [string, unknown][] = [
    ['null', null],
    ['array', [1, 2]],
    ['string', 'hello'],
    ['wrong version', {...good, v: 2}],
    ['missing type', {...good, type: undefined}],
    ['empty type', {...good, type: ''}],
    ['type with spaces', {...good, type: 'rm -rf'}],
    ['upper-case type', {...good, type: 'Ping'}],
    ['type too long', {...good, type: 'a'.repeat(65)}],
    ['numeric id', {...good, id: 5}],
    ['empty id', {...good, id: ''}],
    ['id too long', {...good, id: 'x'.repeat(65)}],
    ['from not hex', {...good, from: 'zz'}],
    ['from empty', {...good, from: ''}],
    ['from too long', {...good, from: 'a'.repeat(65)}],
    ['to not a string', {...good, to: null}],
    ['ts negative', {...good, ts: -1}],
    ['ts not a number', {...good, ts: '1'}],
    ['ts infinite', {...good, ts: Infinity}],
    ['extra field', {...good, admin: true}],
  ];
  test.each(bad)('refuses %s', (_name, value) => {
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) : value;
    expect(validateEnvelope(obj)).toBeUndefined();
    expect(decodeEnvelope(packr.pack(obj))).toBeUndefined();
  });

  test('refuses a missing body', () => {
    const {body: _body, ...rest} = good;
    expect(decodeEnvelope(packr.pack(rest))).toBeUndefined();
  });

  test('garbage bytes and truncated encodings decode to undefined, never throw', () => {
    const enc = encodeEnvelope(good);
    for (let i = 0; i < enc.length; i++) expect(decodeEnvelope(enc.subarray(0, i))).toBeUndefined();
    expect(decodeEnvelope(Buffer.from([0xc1]))).toBeUndefined();
    expect(decodeEnvelope(Buffer.from('not msgpack at all'))).toBeUndefined();
  });
});

describe('envelope batches', () => {
  test('round-trip one and many parts, as views', () => {
    const parts = [Buffer.from('a'), Buffer.from('bcd'), encodeEnvelope(good)];
    const batch = encodeBatch(parts);
    expect(decodeBatch(batch)?.map((p) => p.toString('hex'))).toEqual(parts.map((p) => p.toString('hex')));
    expect(decodeBatch(encodeBatch([parts[2]!]))).toHaveLength(1);
  });

  test.each([
    ['empty', Buffer.alloc(0)],
    ['short length', Buffer.from([0, 0, 1])],
    ['zero length', Buffer.from([0, 0, 0, 0])],
    ['length past the end', Buffer.from([0, 0, 0, 5, 1, 2])],
    ['trailing bytes', Buffer.concat([encodeBatch([Buffer.from('x')]), Buffer.from([0, 0])])],
    ['huge length', Buffer.from([0xff, 0xff, 0xff, 0xff, 1])],
  ])('refuses %s', (_n, buf) => {
    expect(decodeBatch(buf)).toBeUndefined();
  });

  describe('encodeEnvelopePieces', () => {
    const env = (body: unknown) => ({v: 1 as const, type: 'snapshot.part.put', id: 'r1', from: 'ab', to: 'cd', ts: 5, body});

    test('a large trailing binary is sent by reference; the pieces join into exactly the msgpack encoding', () => {
      for (const n of [SPLIT_BINARY_BYTES, 1020 * 1024, 70_000]) {
        const data = Buffer.alloc(n, 7);
        const e = env({snap: 'ff', part: 1, offset: 0, data});
        const enc = encodeEnvelopePieces(e);
        expect(enc.pieces.length).toBe(3);
        expect(enc.pieces[2]!.buffer).toBe(data.buffer); // not copied
        const joined = Buffer.concat(enc.pieces);
        expect(joined.length).toBe(enc.length);
        const back = decodeEnvelope(joined)!;
        const b = back.body as {snap: string; part: number; offset: number; data: Uint8Array};
        expect({...b, data: undefined}).toEqual({snap: 'ff', part: 1, offset: 0, data: undefined});
        expect(Buffer.from(b.data).equals(data)).toBe(true);
        // And inside a batch, next to small envelopes.
        const small = encodeEnvelopePieces(env({ok: true}));
        const batch = decodeBatch(Buffer.concat(batchPieces([small, enc, small])))!;
        expect(batch.map((b) => decodeEnvelope(b)?.body)).toEqual([{ok: true}, back.body, {ok: true}]);
      }
    });

    test('anything else is encoded whole: small binaries, binaries not last, non-object bodies', () => {
      const big = Buffer.alloc(SPLIT_BINARY_BYTES, 1);
      for (const body of [{data: Buffer.alloc(SPLIT_BINARY_BYTES - 1)}, {data: big, after: 1}, big, [big], null, 'text']) {
        const enc = encodeEnvelopePieces(env(body));
        expect(enc.pieces.length).toBe(1);
        expect(enc.pieces[0]!.equals(encodeEnvelope(env(body)))).toBe(true);
      }
    });
  });
});
