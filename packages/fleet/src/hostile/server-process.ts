/**
 * The real server as a child process (`apps/server/dist/main.js`), so the fuzz suite sees it
 * from outside as an operator would: its RSS read from /proc, a crash seen as the process
 * exiting, its last output kept to say why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  pid: number;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  adminToken: string;
  /** Resolves when the process ends, however it ends. */
  exited: Promise<ServerExit>;
  /** The exit, once it happened. */
  exit: ServerExit | undefined;
  /** The last ~64 KB the process wrote to stdout and stderr (a crash's stack or `FATAL ERROR`). */
  output(): string;
  /** Ends the process (SIGTERM, then SIGKILL after `graceMs`) and removes its data dir. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_KEPT = 64 * 1024;

/** A TCP port free right now on 127.0.0.1 (main.ts prints the configured port, so not 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Where the built server's entry point is (the fleet devDepends on @tabgrid/server). */
export function serverMainPath(): string {
  const app = createRequire(import.meta.url).resolve('@tabgrid/server/app');
  return join(dirname(app), 'main.js');
}

/**
 * Starts `node apps/server/dist/main.js` on a free port with a temporary data dir and resolves
 * once `/healthz` answers. `nodeArgs` go before the script (e.g. `--max-old-space-size`).
 */
export async function startServerProcess(
  options: { adminToken?: string; nodeArgs?: string[]; readyTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const adminToken = options.adminToken ?? 'tg_fuzz_admin_token_0123456789abcdef';
  const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-fuzz-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), serverMainPath()],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        TABGRID_DATA_DIR: dataDir,
        TABGRID_ADMIN_TOKEN: adminToken,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const handle: ServerProcess = {
    pid: child.pid ?? -1,
    port,
    url: `http://127.0.0.1:${port}`,
    adminToken,
    exit: undefined,
    exited: new Promise<ServerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        handle.exit = { code, signal };
        resolve(handle.exit);
      });
    }),
    output: () => output,
    async stop(graceMs = 5_000) {
      if (!handle.exit) {
        child.kill('SIGTERM');
        const cut = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await handle.exited;
        clearTimeout(cut);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (handle.exit) {
      throw new Error(
        `The server exited while starting (${JSON.stringify(handle.exit)}):\n${output}`,
      );
    }
    try {
      if ((await fetch(`${handle.url}/healthz`)).ok) return handle;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`The server did not answer /healthz within the start timeout:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
