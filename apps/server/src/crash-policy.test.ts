import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { crashHandlers } from './crash-policy.js';
import { tempDir } from './testing/temp-dir.js';

const temp = tempDir('tabgrid-crash-');
const dir = temp.path;
afterAll(() => temp.remove());

/** The built policy module (turbo builds the package before its tests), for a real Node process. */
function compiledPolicy(): string {
  return fileURLToPath(new URL('../dist/crash-policy.js', import.meta.url));
}

/** Runs `body` in a fresh Node process with the policy installed; returns its exit and output. */
function runWithPolicy(body: string) {
  const script = join(dir, `case-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `import { installCrashPolicy } from ${JSON.stringify(compiledPolicy())};
installCrashPolicy(console);
${body}`,
  );
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('crash policy', () => {
  it('an unhandled rejection is logged loudly and the process keeps serving', () => {
    const run = runWithPolicy(`
Promise.reject(new Error('deep in a settle chain'));
setTimeout(() => { console.log('still serving'); process.exit(0); }, 50);`);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('still serving');
    expect(run.stderr).toContain('UNHANDLED PROMISE REJECTION #1');
    expect(run.stderr).toContain('deep in a settle chain');
  });

  it('an uncaught exception is logged and the process exits with 1 for its supervisor', () => {
    const run = runWithPolicy(`
setTimeout(() => { throw new Error('thrown from a timer'); }, 10);
setTimeout(() => { console.log('should not get here'); }, 500);`);
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('should not get here');
    expect(run.stderr).toContain('UNCAUGHT EXCEPTION');
    expect(run.stderr).toContain('thrown from a timer');
  });

  it('without the policy, Node itself dies on an unhandled rejection (what it replaces)', () => {
    const script = join(dir, 'bare.mjs');
    writeFileSync(script, `Promise.reject(new Error('x')); setTimeout(() => {}, 200);`);
    expect(() => execFileSync(process.execPath, [script], { stdio: 'pipe' })).toThrow();
  });

  it('counts rejections, and can keep serving after an exception when told to', () => {
    const log = { error: vi.fn() };
    const exit = vi.fn();
    const handlers = crashHandlers(log, { exit, exitOnException: false });
    handlers.onRejection('a string reason');
    handlers.onRejection(new TypeError('boom'));
    handlers.onException(new Error('bad'));
    expect(handlers.rejections).toBe(2);
    expect(exit).not.toHaveBeenCalled();
    expect(log.error).toHaveBeenNthCalledWith(
      1,
      { reason: 'a string reason' },
      expect.stringContaining('#1'),
    );
    expect(log.error.mock.calls[1]![0]).toMatchObject({ name: 'TypeError', message: 'boom' });
  });
});
