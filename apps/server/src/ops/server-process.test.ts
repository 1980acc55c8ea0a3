/**
 * The built server as an operator runs it, off a terminal: every line JSON, a port in use one
 * fatal line with its code and a non-zero exit, SIGTERM said and drained with exit 0.
 */
import { spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import {
  serverMainPath,
  startServerProcess,
  type ServerProcess,
} from '../testing/server-process.js';
import { tempDir } from '../testing/temp-dir.js';
import { ADMIN_TOKEN } from '../testing/test-server.js';

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>); // throws on a line that is not JSON
}

/** Runs `node dist/main.js` with `env` to its exit. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [serverMainPath()], {
      env: { ...process.env, HOST: '127.0.0.1', TABGRID_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

it('logs JSON lines: started (no token), SIGTERM, stopped; exit 0', async () => {
  server = await startServerProcess();
  await fetch(`${server.url}/api/jobs`); // a 401: logged with its code
  const exit = server.kill('SIGTERM');
  expect(await exit).toEqual({ code: 0, signal: null });
  const lines = jsonLines(server.output());
  const started = lines.find((l) => String(l.msg).startsWith('Tabgrid '));
  expect(started).toMatchObject({ level: 'info', url: server.url, port: server.port });
  expect(server.output()).not.toContain(server.adminToken);
  expect(lines).toContainEqual(
    expect.objectContaining({ msg: 'request refused', code: 'TG_ERR_UNAUTHORIZED', status: 401 }),
  );
  const messages = lines.map((l) => l.msg);
  expect(messages).toContain('SIGTERM: stopping (pending writes commit, sockets close)');
  expect(messages.at(-1)).toBe('stopped');
}, 30_000);

it('says in one line that the port is in use, and exits non-zero', async () => {
  server = await startServerProcess();
  const data = tempDir('tabgrid-port-');
  try {
    const second = await runMain({ PORT: String(server.port), TABGRID_DATA_DIR: data.path });
    expect(second.code).toBe(1);
    const lines = jsonLines(second.output);
    const fatal = lines.filter((l) => l.level === 'fatal');
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({
      code: 'TG_ERR_PORT_IN_USE',
      msg: expect.stringMatching(new RegExp(`port ${server.port} on 127\\.0\\.0\\.1 is in use`)),
    });
    expect(second.output).not.toMatch(/\n\s+at /); // no stack
  } finally {
    data.remove();
  }
}, 30_000);

it('says what is wrong with a setting, with TG_ERR_CONFIG, and exits non-zero', async () => {
  const data = tempDir('tabgrid-config-');
  try {
    const run = await runMain({
      PORT: '1',
      TABGRID_DATA_DIR: data.path,
      TABGRID_LOG_LEVEL: 'loud',
    });
    expect(run.code).toBe(1);
    expect(jsonLines(run.output)).toEqual([
      expect.objectContaining({
        level: 'fatal',
        code: 'TG_ERR_CONFIG',
        msg: expect.stringMatching(/^cannot start: TABGRID_LOG_LEVEL must be one of/),
      }),
    ]);
  } finally {
    data.remove();
  }
}, 30_000);
