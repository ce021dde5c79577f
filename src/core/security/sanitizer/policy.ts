import type {SanitizerPolicy} from './types.js';

/** Defaults: decoding is bounded so a 1 MiB input costs the same order as a 1 KiB one per byte. */
export const DEFAULT_POLICY: SanitizerPolicy = {
  internalHosts: [],
  maxDecodeDepth: 2,
  maxBlobBytes: 64 * 1024,
  maxDecodedBytes: 256 * 1024,
  maxBlobs: 64,
  blockScore: 3,
  minSecretLength: 6,
  maxJsonDepth: 64,
};

export function resolvePolicy(p?: Partial<SanitizerPolicy>): SanitizerPolicy {
  return {...DEFAULT_POLICY, ...(p ?? {})};
}
