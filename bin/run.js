#!/usr/bin/env node
// Production entry point: runs the compiled commands in dist/.
import {cacheRootManifest, importOclif} from './fast-start.js';

// One place for process-wide safety nets (STYLE: never per run).
process.on('unhandledRejection', (err) => {
  process.stderr.write(`swarm: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

const {execute, Plugin} = await importOclif();
cacheRootManifest(Plugin);
await execute({dir: import.meta.url});
