#!/usr/bin/env node
// The `tabgrid` bin: starts the built CLI (dist/cli/bin.js).
//
// Why a launcher that lives in the source tree rather than a bin pointing into dist/: npm links
// a package's bins when it installs, and skips a bin whose file does not exist yet. In a fresh
// clone dist/ is built only after `npm ci`, so a bin pointing into it was never linked, and
// `npx tabgrid` fell back to the root package (also named "tabgrid", without a bin): "could not
// determine executable to run". This file exists at install time, so it is always linked.
//
// In the repository (src/ beside dist/) it also builds the SDK and the protocol first when
// their build is missing or older than their sources, so `npx tabgrid` works right after
// `npm ci` and after a `git pull`. Installed from a package, it just starts dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('..', import.meta.url));
const cli = join(here, 'dist', 'cli', 'bin.js');

/** Newest modification time (ms) of the built files' sources under `dir` (tests are not built). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (!/\.test\.ts$/.test(entry.name)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/** In the repository: true when dist/ is missing or older than the sources of the SDK or its deps. */
function needsBuild(root) {
  if (!existsSync(cli)) return true;
  const sources = ['sdk', 'protocol', 'job-runtime'].map((p) => join(root, 'packages', p, 'src'));
  const built = statSync(cli).mtimeMs;
  return sources.some((dir) => existsSync(dir) && newest(dir) > built);
}

const root = join(here, '..', '..');
const inRepository =
  existsSync(join(here, 'src', 'cli', 'bin.ts')) && existsSync(join(root, 'turbo.json'));
if (inRepository && needsBuild(root)) {
  const turbo = join(root, 'node_modules', 'turbo', 'bin', 'turbo');
  if (!existsSync(turbo)) {
    process.stderr.write(
      'tabgrid: the CLI is not built and turbo is missing: run npm ci, then npm run build.\n',
    );
    process.exit(1);
  }
  process.stderr.write(
    'tabgrid: building the SDK first (its sources changed since the last build)…\n',
  );
  // Build output goes to stderr: stdout may be piped into another program.
  const build = spawnSync(
    process.execPath,
    [turbo, 'run', 'build', '--filter=@tabgrid/sdk', '--output-logs=errors-only'],
    { cwd: root, stdio: ['ignore', 2, 2], env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  );
  if (build.status !== 0 || !existsSync(cli)) {
    process.stderr.write('tabgrid: the build failed (see above): fix it, or run npm run build.\n');
    process.exit(1);
  }
  // A build replayed from turbo's cache may keep old times: mark it fresh, or every run rebuilds.
  const now = new Date();
  utimesSync(cli, now, now);
} else if (!existsSync(cli)) {
  process.stderr.write(`tabgrid: ${cli} is missing: reinstall @tabgrid/sdk.\n`);
  process.exit(1);
}

await import(new URL('../dist/cli/bin.js', import.meta.url).href);
