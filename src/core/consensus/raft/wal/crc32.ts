import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE, the zlib/PNG polynomial) used as a torn-write / bit-rot checksum — not crypto.
 * Node >= 20.15 ships a native `zlib.crc32`; older 20.x lines do not, so fall back to a table.
 * `value` continues a previous checksum, so crc32(b, crc32(a)) === crc32(a ++ b).
 */
type Crc32 = (data: Uint8Array, value?: number) => number;

const native = (zlib as unknown as {crc32?: Crc32}).crc32;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Portable fallback (also what the tests compare the native one against). */
export function crc32Table(data: Uint8Array, value = 0): number {
  table ??= makeTable();
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const crc32: Crc32 = typeof native === 'function' ? (data, value = 0) => native(data, value) >>> 0 : crc32Table;
