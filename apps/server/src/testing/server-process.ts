/**
 * The built server (`dist/main.js`) as a child process on a free port, seen from outside as an
 * operator sees it: its pid (RSS from /proc), a crash as the process exiting, its last output
 * kept to say why. For tests that kill the server (crash recovery) or must not share its heap
 * (the fuzz suite).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { tempDir } from './temp-dir.js';
import { ADMIN_TOKEN } from './test-server.js';

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  adminToken?: string;
  /** Before the script (e.g. `--max-old-space-size`). */
  nodeArgs?: string[];
  /** How long `/healthz` may take to answer after the spawn (default 20 s). */
  readyTimeoutMs?: number;
  /** A data dir to reuse (a restart); it is the caller's, never removed. Default: a fresh one. */
  dataDir?: string;
  /** The port to listen on (a restart on the same address); default: a free one. */
  port?: number;
  /** More environment (TABGRID_DATABASE_URL, TABGRID_NODE_ID, … of one of several nodes). */
  env?: Record<string, string>;
}

export interface ServerProcess {
  pid: number;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT/ws/worker */
  wsUrl: string;
  adminToken: string;
  dataDir: string;
  /** Resolves when the process ends, however it ends. */
  exited: Promise<ServerExit>;
  /** The exit, once it happened. */
  exit: ServerExit | undefined;
  /** The last ~64 KB the process wrote to stdout and stderr (a crash's stack or `FATAL ERROR`). */
  output(): string;
  /** Sends `signal` (default SIGKILL: a crash) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ServerExit>;
  /** Ends the process (SIGTERM, then SIGKILL after `graceMs`) and removes a data dir it made. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_KEPT = 64 * 1024;

/** A TCP port free right now on 127.0.0.1 (main.ts listens where it is told, so not 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** The built server's entry point, found through the package's own exports map. */
export function serverMainPath(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@tabgrid/server/app')), 'main.js');
}

/** Starts `node dist/main.js` and resolves once `/healthz` answers. */
export async function startServerProcess(
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const adminToken = options.adminToken ?? ADMIN_TOKEN;
  const ownDir = options.dataDir === undefined ? tempDir('tabgrid-process-') : undefined;
  const dataDir = options.dataDir ?? ownDir!.path;
  const port = options.port ?? (await freePort());
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
        ...options.env,
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
    wsUrl: `ws://127.0.0.1:${port}/ws/worker`,
    adminToken,
    dataDir,
    exit: undefined,
    exited: new Promise<ServerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        handle.exit = { code, signal };
        resolve(handle.exit);
      });
    }),
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (!handle.exit) child.kill(signal);
      return handle.exited;
    },
    async stop(graceMs = 5_000) {
      if (!handle.exit) {
        child.kill('SIGTERM');
        const cut = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await handle.exited;
        clearTimeout(cut);
      }
      ownDir?.remove();
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (handle.exit) {
      ownDir?.remove();
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
    await new Promise((r) => setTimeout(r, 25));
  }
}
