/**
 * The outer wire frame: one ZeroMQ message part, a fixed binary header then a body.
 *
 *   offset 0  u8   version (1)
 *          1  u8   kind (FrameKind)
 *          2  8B   session id (chosen by the initiator, like WireGuard's sender index)
 *   DATA:  10 u64  counter, big-endian (the AEAD nonce; carried explicitly so loss/reorder is survivable)
 *          18 ...  AES-256-GCM ciphertext + 16-byte tag; AAD = bytes 0..18
 *   HS_*:  10 ...  the Noise handshake message
 *   RESET: 10      nothing: "I have no session with this id" (unauthenticated: only ever a hint to re-handshake)
 *
 * A fixed header rather than msgpack keeps the hot path to one allocation and lets the header be the
 * AAD. The authenticated envelope inside DATA is msgpack (see envelope.ts).
 */
export const FRAME_VERSION = 1;

export const FrameKind = {
  HandshakeInit: 1,
  HandshakeResponse: 2,
  HandshakeFinal: 3,
  Data: 4,
  Reset: 5,
} as const;
export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

export const SID_BYTES = 8;
export const HEADER_BYTES = 2 + SID_BYTES;
export const DATA_HEADER_BYTES = HEADER_BYTES + 8;
export const NOISE_MAX_MESSAGE = 65535;

export type Frame =
  | {kind: typeof FrameKind.HandshakeInit | typeof FrameKind.HandshakeResponse | typeof FrameKind.HandshakeFinal; sid: Buffer; noise: Buffer}
  | {kind: typeof FrameKind.Data; sid: Buffer; counter: number; aad: Buffer; ciphertext: Buffer}
  | {kind: typeof FrameKind.Reset; sid: Buffer};

export type FrameError = 'malformed' | 'oversized';

/** Parses without copying (subarrays of `buf`). Returns a reason instead of throwing: bad input is counted, not exceptional. */
export function decodeFrame(buf: Buffer, maxFrameBytes: number): Frame | FrameError {
  if (buf.length > maxFrameBytes) return 'oversized';
  if (buf.length < HEADER_BYTES || buf[0] !== FRAME_VERSION) return 'malformed';
  const kind = buf[1];
  const sid = buf.subarray(2, HEADER_BYTES);
  switch (kind) {
    case FrameKind.HandshakeInit:
    case FrameKind.HandshakeResponse:
    case FrameKind.HandshakeFinal: {
      const noise = buf.subarray(HEADER_BYTES);
      if (noise.length === 0 || noise.length > NOISE_MAX_MESSAGE) return 'malformed';
      return {kind, sid, noise};
    }
    case FrameKind.Data: {
      if (buf.length < DATA_HEADER_BYTES + 16) return 'malformed';
      const hi = buf.readUInt32BE(HEADER_BYTES);
      const lo = buf.readUInt32BE(HEADER_BYTES + 4);
      // Counters above 2^48 are never sent (see session MAX_COUNTER); refusing them keeps numbers exact.
      if (hi >= 0x10000) return 'malformed';
      return {kind, sid, counter: hi * 0x1_0000_0000 + lo, aad: buf.subarray(0, DATA_HEADER_BYTES), ciphertext: buf.subarray(DATA_HEADER_BYTES)};
    }
    case FrameKind.Reset:
      return buf.length === HEADER_BYTES ? {kind, sid} : 'malformed';
    default:
      return 'malformed';
  }
}

export function encodeHandshake(kind: 1 | 2 | 3, sid: Buffer, noise: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + noise.length);
  out[0] = FRAME_VERSION;
  out[1] = kind;
  sid.copy(out, 2);
  noise.copy(out, HEADER_BYTES);
  return out;
}

export function encodeReset(sid: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES);
  out[0] = FRAME_VERSION;
  out[1] = FrameKind.Reset;
  sid.copy(out, 2);
  return out;
}

/** The DATA header for `counter`; it is also the AAD of the ciphertext that follows it. */
export function encodeDataHeader(sid: Buffer, counter: number): Buffer {
  const out = Buffer.allocUnsafe(DATA_HEADER_BYTES);
  out[0] = FRAME_VERSION;
  out[1] = FrameKind.Data;
  sid.copy(out, 2);
  out.writeUInt32BE(Math.floor(counter / 0x1_0000_0000), HEADER_BYTES);
  out.writeUInt32BE(counter >>> 0, HEADER_BYTES + 4);
  return out;
}
