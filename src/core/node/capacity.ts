import {execFileSync} from 'node:child_process';
import * as os from 'node:os';

import type {Capacity} from '../transport/hello.js';

/** Counts GPUs with `nvidia-smi -L` where present; 0 on machines without one (no error). */
export function probeGpus(): number {
  try {
    const out = execFileSync('nvidia-smi', ['-L'], {encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore']});
    return out.split('\n').filter((l) => l.startsWith('GPU ')).length;
  } catch {
    return 0;
  }
}

/** What this machine offers; `gpus` declared by the operator wins over the probe. */
export function localCapacity(declaredGpus?: number): Capacity {
  return {cores: os.availableParallelism(), memoryBytes: os.totalmem(), gpus: declaredGpus ?? probeGpus()};
}
