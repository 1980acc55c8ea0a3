/**
 * Every example in examples/ (quickstart.mjs, pool.mjs, broadcast.mjs, …) run as a user runs
 * it, `node examples/<name>.mjs`, against a real server with fleet workers: it must exit 0 and
 * print exactly the output examples/README.md promises for it. A new example without an
 * "Expected output" there fails this test.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { serverPerFile } from '@tabgrid/server/testing/vitest';
import { Fleet } from './fleet.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = `${ROOT}examples/`;

const env = serverPerFile();

beforeAll(async () => {
  const fleet = env.adopt(new Fleet({ url: env.wsUrl, workers: 2, threads: 2 }));
  await fleet.start();
});

/** The "Expected output" block of each `## <file>` section of examples/README.md. */
function expectedOutputs(): Map<string, string> {
  const readme = readFileSync(`${EXAMPLES}README.md`, 'utf8');
  const outputs = new Map<string, string>();
  const section = /^## (\S+\.mjs)\s*\n[\s\S]*?Expected output:\s*\n+```[^\n]*\n([\s\S]*?)```/gm;
  for (const match of readme.matchAll(section)) outputs.set(match[1]!, match[2]!);
  return outputs;
}

/** Runs `node examples/<file>` against the test server; resolves with its exit code and output. */
function runExample(
  file: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${EXAMPLES}${file}`], {
      cwd: ROOT,
      env: { ...process.env, TABGRID_URL: env.url, TABGRID_TOKEN: env.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const files = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const outputs = expectedOutputs();
/** Examples whose README section says they need a WebGPU tab (e2e/tests/volunteer-webgpu.spec.ts runs them). */
const needsWebGpu = new Set(
  [
    ...readFileSync(`${EXAMPLES}README.md`, 'utf8').matchAll(
      /^## (\S+\.mjs)\s*\n(?:(?!^## )[\s\S])*?^Needs a WebGPU tab/gm,
    ),
  ].map((m) => m[1]!),
);

describe('examples/', () => {
  it('has an expected output in examples/README.md for every example, quickstart, pool and broadcast among them', () => {
    expect(files).toEqual(expect.arrayContaining(['quickstart.mjs', 'pool.mjs', 'broadcast.mjs']));
    expect(files.filter((f) => !outputs.has(f))).toEqual([]);
  });

  for (const file of files) {
    // Simulated workers have no GPU: such an example runs in e2e against a WebGPU tab.
    if (needsWebGpu.has(file)) continue;
    it(`node examples/${file} prints its expected output`, { timeout: 120_000 }, async () => {
      const { code, stdout, stderr } = await runExample(file);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toBe(outputs.get(file));
    });
  }
});
