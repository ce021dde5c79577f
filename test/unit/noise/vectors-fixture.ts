import fs from 'node:fs';
import path from 'node:path';

/** One cacophony test vector, hex-encoded as in the Noise wiki's JSON format. */
export interface NoiseVector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  init_psks?: string[];
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  resp_psks?: string[];
  handshake_hash: string;
  messages: {payload: string; ciphertext: string}[];
}

const FILE = 'noise-vectors/cacophony-25519-AESGCM-SHA256.json';

/** Loads the vectors from shared/ beside the checkout (CI layout) or inside it. */
export function loadVectors(): NoiseVector[] {
  const candidates = [path.resolve(process.cwd(), '../shared', FILE), path.resolve(process.cwd(), 'shared', FILE)];
  const file = candidates.find((c) => fs.existsSync(c));
  if (file === undefined) throw new Error(`Noise test vectors not found; looked in ${candidates.join(', ')}`);
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as {vectors: NoiseVector[]};
  return parsed.vectors;
}
