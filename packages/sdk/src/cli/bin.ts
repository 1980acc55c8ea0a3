#!/usr/bin/env node
/**
 * The `tabgrid` executable (the package's bin launcher, bin/tabgrid.mjs, imports this).
 *
 * @example
 * TABGRID_TOKEN=… npx tabgrid jobs
 * npx tabgrid run double.js tasks.ndjson --out outcomes.ndjson
 */
import { main } from './main.js';

// `tabgrid results JOB | head`: once the reader has gone, stop quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
