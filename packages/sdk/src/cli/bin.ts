#!/usr/bin/env node
/**
 * The `tabgrid` executable (the package's bin launcher, bin/tabgrid.mjs, imports this).
 *
 * @example
 * TABGRID_TOKEN=… npx tabgrid jobs
 * npx tabgrid run double.js tasks.ndjson --out outcomes.ndjson
 */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
