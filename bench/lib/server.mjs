// Starts a real Tabgrid server as a child process (durable SQLite defaults, temp data dir), so
// its peak RSS can be read from /proc and it never shares an event loop with the load.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, peakRssMb } from './proc.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOKEN = 'bench-admin-token';

export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** `env`: more settings of the server (TABGRID_DATABASE_URL, say). */
export async function startServer({ env = {} } = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-bench-'));
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, join(ROOT, 'apps/server/dist/main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      TABGRID_DATA_DIR: dataDir,
      TABGRID_ADMIN_TOKEN: TOKEN,
      // Thousands of simulated workers, all from loopback: a lab, not one host hoarding sockets.
      TABGRID_MAX_WORKERS_PER_ADDRESS: '100000',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      if (i > 400) throw new Error('the server did not start');
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws/worker`,
    pid: child.pid,
    peakRssMb: () => peakRssMb(child.pid),
    cpuSeconds: () => cpuSeconds(child.pid),
    health: async (reset = false) => (await fetch(`${url}/healthz${reset ? '?reset' : ''}`)).json(),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
