#!/usr/bin/env node
// Production entry point: runs the compiled commands in dist/.
import {execute} from '@oclif/core';

// One place for process-wide safety nets (STYLE: never per run).
process.on('unhandledRejection', (err) => {
  process.stderr.write(`swarm: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

await execute({dir: import.meta.url});
