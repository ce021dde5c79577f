import type {ConfChange, NodeId} from './types.js';

const OPS = new Set(['add-voter', 'add-learner', 'remove']);

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(cc));
}

/** Decodes a conf entry's data; undefined for anything that is not exactly a ConfChange. */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const o = JSON.parse(new TextDecoder().decode(data)) as {op?: unknown; node?: unknown};
    if (typeof o.op !== 'string' || !OPS.has(o.op) || typeof o.node !== 'string' || o.node === '') return undefined;
    return {op: o.op, node: o.node as NodeId} as ConfChange;
  } catch {
    return undefined;
  }
}
