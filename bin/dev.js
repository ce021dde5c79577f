#!/usr/bin/env node
// Development entry point: rebuilds nothing itself; run `npm run build` (or `tsc -w`) beside it.
// oclif's development mode gives full stack traces on errors.
import {execute} from '@oclif/core';

await execute({development: true, dir: import.meta.url});
