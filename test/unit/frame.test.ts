import {decodeFrame, encodeDataHeader, encodeHandshake, encodeReset, FrameKind, DATA_HEADER_BYTES} from '../../src/core/transport/frame.js';

const sid = Buffer.from('0102030405060708', 'hex');
const MAX = 4096;

describe('frame codec', () => {
  test('round-trips handshake, data and reset frames', () => {
    const hs = decodeFrame(encodeHandshake(FrameKind.HandshakeInit, sid, Buffer.from('abc')), MAX);
    expect(hs).toMatchObject({kind: FrameKind.HandshakeInit});
    expect(typeof hs !== 'string' && hs.sid.equals(sid)).toBe(true);

    const header = encodeDataHeader(sid, 2 ** 40 + 7);
    const data = decodeFrame(Buffer.concat([header, Buffer.alloc(20, 1)]), MAX);
    expect(data).toMatchObject({kind: FrameKind.Data, counter: 2 ** 40 + 7});
    expect(typeof data !== 'string' && data.kind === FrameKind.Data && data.aad.equals(header)).toBe(true);

    expect(decodeFrame(encodeReset(sid), MAX)).toMatchObject({kind: FrameKind.Reset});
  });

  const malformed: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['short header', Buffer.from([1, 4, 0, 0])],
    ['wrong version', Buffer.concat([Buffer.from([2, 4]), sid, Buffer.alloc(30)])],
    ['unknown kind', Buffer.concat([Buffer.from([1, 9]), sid, Buffer.alloc(30)])],
    ['kind zero', Buffer.concat([Buffer.from([1, 0]), sid, Buffer.alloc(30)])],
    ['handshake without body', Buffer.concat([Buffer.from([1, 1]), sid])],
    ['data shorter than a tag', Buffer.concat([encodeDataHeader(sid, 1), Buffer.alloc(15)])],
    ['data counter above 2^48', Buffer.concat([Buffer.from([1, 4]), sid, Buffer.from('0001000000000000', 'hex'), Buffer.alloc(16)])],
    ['reset with trailing bytes', Buffer.concat([encodeReset(sid), Buffer.from([0])])],
    ['random bytes', Buffer.from('ffffffffffffffffffffffffffffffff', 'hex')],
  ];
  test.each(malformed)('refuses %s as malformed', (_name, buf) => {
    expect(decodeFrame(buf, MAX)).toBe('malformed');
  });

  test('refuses frames over the limit as oversized before parsing', () => {
    expect(decodeFrame(Buffer.alloc(MAX + 1, 1), MAX)).toBe('oversized');
    expect(decodeFrame(Buffer.concat([encodeDataHeader(sid, 0), Buffer.alloc(MAX - DATA_HEADER_BYTES)]), MAX)).toMatchObject({kind: FrameKind.Data});
  });
});
