#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=67108864 node --single-threaded-gc --no-incremental-marking
// Production entry point: runs the compiled commands in dist/. The #! line sets glibc's malloc
// thresholds and V8 GC flags for the process (src/core/node/process-settings.ts says why; a test keeps them equal).
import {cacheRootManifest, importOclif} from './fast-start.js';

// One place for process-wide safety nets (STYLE: never per run).
process.on('unhandledRejection', (err) => {
  process.stderr.write(`swarm: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

const {execute, Plugin} = await importOclif();
cacheRootManifest(Plugin);
await execute({dir: import.meta.url});
