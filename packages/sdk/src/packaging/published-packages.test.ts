/**
 * What an integrator gets from npm: the packed tarballs of @tabgrid/protocol, @tabgrid/job-runtime
 * and @tabgrid/sdk, installed into a fresh directory outside the repository (so nothing resolves
 * through the workspace), then used there from strict TypeScript, as an ES module and from
 * CommonJS (`require()` of the ESM-only packages, which Node ≥ 20.19 supports), and through the
 * `tabgrid` bin. The consumers really run: a local run (Node worker threads, no server) computes
 * with the installed job runtime.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const PACKAGES = ['protocol', 'job-runtime', 'sdk'] as const;
/** The repository's compiler: the consumer needs no TypeScript of its own to be checked. */
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let dir = '';
const tarballs: Record<string, string> = {};
const contents: Record<string, string[]> = {};

async function sh(file: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(file, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(
      `${file} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`,
    );
  }
}

const ESM_CONSUMER = `import { Tabgrid, ErrorCode, TabgridError, type TaskOutcome } from '@tabgrid/sdk';
import { PROTOCOL_VERSION } from '@tabgrid/protocol/version';
import { JobInfo } from '@tabgrid/protocol/jobs';

const tg = new Tabgrid({ local: { threads: 1 } });
const job = await tg.createJob({ program: (n: number) => n * n, name: 'squares' });
const outcomes: TaskOutcome[] = [];
for await (const outcome of job.run([1, 2, 3])) outcomes.push(outcome);
await tg.close();
const sum = outcomes.reduce((total, o) => total + (o.ok ? (o.value as number) : 0), 0);
const error: TabgridError = new TabgridError(ErrorCode.NOT_FOUND, 'x');
console.log(JSON.stringify({ sum, protocol: PROTOCOL_VERSION, code: error.code, schema: JobInfo.type }));
`;

const CJS_CONSUMER = `import sdk = require('@tabgrid/sdk');
import errors = require('@tabgrid/protocol/errors');

async function main(): Promise<void> {
  const tg = new sdk.Tabgrid({ local: { threads: 1 } });
  const values = await (await tg.createJob({ program: 'function Run(s) { return s.length }' })).map(['ab', 'abc']);
  await tg.close();
  const code: string = errors.ErrorCode.INVALID_REQUEST;
  console.log(JSON.stringify({ values, code }));
}
void main();
`;

function tsconfig(module: 'nodenext', include: string): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      module,
      moduleResolution: 'nodenext',
      lib: ['es2023', 'dom'],
      // Only what the packages themselves declare: a missing type of theirs fails here.
      types: [],
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      outDir: 'out',
    },
    include: [include],
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tabgrid-packages-'));
  for (const name of PACKAGES) {
    const out = await sh(
      'npm',
      ['pack', '--json', '--pack-destination', dir],
      join(ROOT, 'packages', name),
    );
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    if (!info) throw new Error(`npm pack printed no package for ${name}`);
    tarballs[name] = join(dir, info.filename);
    contents[name] = info.files.map((file) => file.path);
  }
  const app = join(dir, 'consumer');
  await sh('mkdir', ['-p', app], dir);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await sh(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...PACKAGES.map((name) => tarballs[name] ?? ''),
    ],
    app,
  );
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the published packages', () => {
  it('carry their build, README, LICENSE and CHANGELOG, and no tests or sources', () => {
    for (const name of PACKAGES) {
      const files = contents[name] ?? [];
      for (const needed of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'])
        expect(files, `${name}: ${needed}`).toContain(needed);
      expect(files.filter((file) => /\.test\.|\.conformance\.|^src\//.test(file))).toEqual([]);
      expect(files.some((file) => file.endsWith('.d.ts'))).toBe(true);
      const manifest = JSON.parse(
        readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8'),
      ) as { private?: boolean; license?: string; engines?: { node?: string } };
      expect(manifest.private, name).toBeUndefined();
      expect(manifest.license).toBe('Apache-2.0');
      expect(manifest.engines?.node).toBeTruthy();
    }
    expect(contents.sdk).toContain('dist/browser/sdk.js');
  });

  it('compile in strict TypeScript and run as ES modules outside the repository', async () => {
    const app = join(dir, 'consumer');
    writeFileSync(join(app, 'consumer.mts'), ESM_CONSUMER);
    writeFileSync(join(app, 'tsconfig.json'), tsconfig('nodenext', 'consumer.mts'));
    await sh(process.execPath, [TSC, '-p', '.'], app);
    const out = JSON.parse(await sh(process.execPath, ['out/consumer.mjs'], app)) as Record<
      string,
      unknown
    >;
    expect(out).toEqual({
      sum: 14,
      protocol: expect.any(Number),
      code: 'TG_ERR_NOT_FOUND',
      schema: 'object',
    });
  }, 120_000);

  it('load from CommonJS with require() and its types', async () => {
    const app = join(dir, 'consumer');
    writeFileSync(join(app, 'consumer.cts'), CJS_CONSUMER);
    writeFileSync(join(app, 'tsconfig.cjs.json'), tsconfig('nodenext', 'consumer.cts'));
    await sh(process.execPath, [TSC, '-p', 'tsconfig.cjs.json'], app);
    const out = await sh(process.execPath, ['out/consumer.cjs'], app);
    expect(JSON.parse(out)).toEqual({ values: [2, 3], code: 'TG_ERR_INVALID_REQUEST' });
  }, 120_000);

  it('install the tabgrid CLI', async () => {
    const app = join(dir, 'consumer');
    const help = await sh(join(app, 'node_modules', '.bin', 'tabgrid'), ['--help'], app);
    expect(help).toMatch(/Commands:/);
  }, 60_000);
});
