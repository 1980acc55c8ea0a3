/**
 * `npx tabgrid` from the repository root: the bin npm links must exist before anything is
 * built, or `npm ci` in a fresh clone skips it and npx answers "could not determine executable
 * to run". Checked two ways: what `npm ci` reads (package.json and the lockfile) names a file in
 * the source tree, and `npm exec` at the root, as npx resolves it, runs the CLI.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SDK = fileURLToPath(new URL('../..', import.meta.url));
const ROOT = join(SDK, '..', '..');

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('the tabgrid bin', () => {
  it('is a launcher in the source tree, and the lockfile npm ci links from says so too', () => {
    const bin = (json(join(SDK, 'package.json')).bin as Record<string, string>).tabgrid ?? '';
    expect(bin).not.toMatch(/dist\//);
    const launcher = readFileSync(join(SDK, bin), 'utf8');
    expect(launcher.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(join(SDK, bin)).mode & 0o111).not.toBe(0);
    const lock = json(join(ROOT, 'package-lock.json')).packages as Record<
      string,
      { bin?: Record<string, string> }
    >;
    // npm ci links the bins the lockfile lists, not package.json's: they must agree.
    expect(lock['packages/sdk']?.bin?.tabgrid).toBe(bin.replace(/^\.\//, ''));
  });

  it(
    'runs from the repository root the way npx resolves it',
    // The launcher may build the SDK first when its sources are newer than dist/.
    { timeout: 120_000 },
    async () => {
      const { stdout } = await promisify(execFile)(
        'npm',
        ['exec', '--offline', '--', 'tabgrid', '--help'],
        { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: 'false' } },
      );
      expect(stdout).toMatch(/^Usage: tabgrid <command> \[options\]\n/);
      expect(stdout).toContain('  run PROGRAM TASKS|-');
      expect(stdout).toContain('Exit codes: 0 success');
    },
  );
});
