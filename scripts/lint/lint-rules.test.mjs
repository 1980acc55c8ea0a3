// Every import rule of eslint.config.js shown to fail on a deliberate violation (and to stay quiet
// on the allowed import next to it). The violations are written into a scratch tree laid out like
// this repo, linted with the real config built for that tree (`tabgridConfig(scratchDir)`), so no
// fixture with a violation ever sits in the repo for the main lint run to trip over.
// Run: node --test scripts/lint/lint-rules.test.mjs (part of `npm run lint:root` and `npm test`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const S = 'apps/server/src';

/** `count` lines of distinct exports. */
function numberedLines(count) {
  return Array.from({ length: count }, (_, i) => `export const n${i} = ${i};\n`).join('');
}

/** The scratch tree: path → source. Files that only exist to be imported hold `export {}`. */
const TREE = {
  // store/
  [`${S}/store/job-store.ts`]: 'export interface JobStore { open(): void }\n',
  [`${S}/store/sqlite-job-store.ts`]:
    "import type { JobStore } from './job-store.js';\nexport type S = JobStore;\n",
  [`${S}/store/uses-fastify.ts`]: "import fastify from 'fastify';\nexport const f = fastify;\n",
  [`${S}/store/uses-fastify-plugin.ts`]:
    "import ws from '@fastify/websocket';\nexport const w = ws;\n",
  [`${S}/store/uses-core.ts`]:
    "import type { Grid } from '../core/grid.js';\nexport type G = Grid;\n",
  [`${S}/store/deep-import.ts`]:
    "import type { JobView } from '@tabgrid/protocol/src/jobs.js';\nexport type J = JobView;\n",
  // core/
  [`${S}/core/grid.ts`]:
    "import type { JobStore } from '../store/job-store.js';\nexport class Grid { store?: JobStore }\n",
  [`${S}/core/dispatcher.ts`]: 'export const dispatch = 1;\n',
  [`${S}/core/uses-sqlite-store.ts`]:
    "import type { S } from '../store/sqlite-job-store.js';\nexport type X = S;\n",
  [`${S}/core/uses-better-sqlite3.ts`]:
    "import Database from 'better-sqlite3';\nexport const d = Database;\n",
  [`${S}/core/uses-fastify.ts`]:
    "import type { FastifyInstance } from 'fastify';\nexport type F = FastifyInstance;\n",
  [`${S}/core/uses-routes.ts`]:
    "import { route } from '../routes/jobs.js';\nexport const r = route;\n",
  // leases/ and telemetry/ are held to the core's rules
  [`${S}/leases/uses-socket-io.ts`]:
    "import { Server } from 'socket.io';\nexport const s = Server;\n",
  [`${S}/telemetry/stats.ts`]: 'export const stats = 1;\n',
  // routes/
  [`${S}/routes/jobs.ts`]: "import { Grid } from '../core/grid.js';\nexport const route = Grid;\n",
  [`${S}/routes/uses-store.ts`]:
    "import type { JobStore } from '../store/job-store.js';\nexport type J = JobStore;\n",
  [`${S}/routes/uses-telemetry.ts`]:
    "import { stats } from '../telemetry/stats.js';\nexport const s = stats;\n",
  [`${S}/routes/uses-dispatcher.ts`]:
    "import { dispatch } from '../core/dispatcher.js';\nexport const d = dispatch;\n",
  // other packages
  [`packages/protocol/src/uses-sdk.ts`]:
    "import { TabgridClient } from '@tabgrid/sdk';\nexport const c = TabgridClient;\n",
  [`packages/sdk/src/uses-server.ts`]:
    "import { buildApp } from '@tabgrid/server/app';\nexport const b = buildApp;\n",
  [`packages/sdk/src/relative-deep.ts`]:
    "import { x } from '../../protocol/src/jobs.js';\nexport const y = x;\n",
  [`packages/protocol/src/jobs.ts`]: 'export const x = 1;\n',
  // cycles
  [`packages/sdk/src/value-a.ts`]: "import { b } from './value-b.js';\nexport const a = () => b;\n",
  [`packages/sdk/src/value-b.ts`]: "import { a } from './value-a.js';\nexport const b = () => a;\n",
  [`packages/sdk/src/type-a.ts`]:
    "import type { B } from './type-b.js';\nexport interface A { b?: B }\n",
  [`packages/sdk/src/type-b.ts`]:
    "import type { C } from './type-c.js';\nexport interface B { c?: C }\n",
  [`packages/sdk/src/type-c.ts`]:
    "import type { A } from './type-a.js';\nexport interface C { a?: A }\n",
  [`packages/sdk/src/no-cycle.ts`]: "import type { A } from './type-a.js';\nexport type N = A;\n",
  [`scripts/cjs-a.cjs`]: "const b = require('./cjs-b.cjs');\nmodule.exports = () => b;\n",
  [`scripts/cjs-b.cjs`]: "const a = require('./cjs-a.cjs');\nmodule.exports = () => a;\n",
  // a source file over 400 lines is too long; a test file may be longer
  [`packages/sdk/src/long.ts`]: numberedLines(401),
  [`packages/sdk/src/long.test.ts`]: numberedLines(401),
  // a .mjs file is linted (it was ignored before)
  [`bench/broken.mjs`]: 'export function run() {\n  return notDefinedAnywhere;\n}\n',
};

let scratch;
/** relative path → messages ESLint reported for it */
const reported = new Map();

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tabgrid-lint-rules-'));
  for (const [file, text] of Object.entries(TREE)) {
    fs.mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
    fs.writeFileSync(path.join(scratch, file), text);
  }
  const configUrl = new URL(`file://${path.join(repoRoot, 'eslint.config.js')}`).href;
  fs.writeFileSync(
    path.join(scratch, 'eslint.config.js'),
    `import { tabgridConfig } from ${JSON.stringify(configUrl)};\nexport default tabgridConfig(import.meta.dirname);\n`,
  );
  const eslint = new ESLint({
    cwd: scratch,
    overrideConfigFile: path.join(scratch, 'eslint.config.js'),
    // The scratch files are in no tsconfig; the rules under test need no type information.
    overrideConfig: tseslint.configs.disableTypeChecked,
  });
  for (const result of await eslint.lintFiles(['.'])) {
    reported.set(path.relative(scratch, result.filePath), result.messages);
  }
});

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function messagesOf(file) {
  const messages = reported.get(file);
  assert.ok(messages, `${file} was not linted (linted: ${[...reported.keys()].join(', ')})`);
  return messages;
}

/** `file` has exactly one report, from `ruleId`, whose message contains `text`. */
function assertReports(file, ruleId, text) {
  const messages = messagesOf(file);
  assert.deepEqual(
    messages.map((m) => m.ruleId),
    [ruleId],
    `${file}: ${JSON.stringify(messages.map((m) => m.message))}`,
  );
  assert.match(messages[0].message, text);
  if (ruleId !== 'no-undef' && ruleId !== 'max-lines')
    assert.match(messages[0].message, /docs\/architecture\.md#[a-z-]+/);
}

function assertClean(file) {
  assert.deepEqual(messagesOf(file), [], file);
}

describe('server layers', () => {
  it('store/ may not import fastify or an @fastify/* plugin', () => {
    assertReports(
      `${S}/store/uses-fastify.ts`,
      'no-restricted-imports',
      /store\/ is framework-free/,
    );
    assertReports(`${S}/store/uses-fastify-plugin.ts`, 'no-restricted-imports', /framework-free/);
  });
  it('store/ may not import the core (even a type)', () => {
    assertReports(
      `${S}/store/uses-core.ts`,
      'import-x/no-restricted-paths',
      /store\/ never imports the core/,
    );
  });
  it('a store file also gets the repo-wide ban: the blocks compose instead of replacing', () => {
    assertReports(`${S}/store/deep-import.ts`, 'no-restricted-imports', /exports map/);
  });
  it('core/ may not import a SQLite adapter or better-sqlite3, but may import the interface', () => {
    assertReports(
      `${S}/core/uses-sqlite-store.ts`,
      'import-x/no-restricted-paths',
      /never a SQLite adapter/,
    );
    assertReports(`${S}/core/uses-better-sqlite3.ts`, 'no-restricted-imports', /adapter-free/);
    assertClean(`${S}/core/grid.ts`);
    assertClean(`${S}/store/sqlite-job-store.ts`);
  });
  it('core/ may not import fastify or routes/; leases/ may not import socket.io', () => {
    assertReports(`${S}/core/uses-fastify.ts`, 'no-restricted-imports', /framework-free/);
    assertReports(
      `${S}/core/uses-routes.ts`,
      'import-x/no-restricted-paths',
      /never imports routes/,
    );
    assertReports(`${S}/leases/uses-socket-io.ts`, 'no-restricted-imports', /framework-free/);
  });
  it('routes/ reach the core through core/grid.ts only, and never the store or telemetry', () => {
    assertClean(`${S}/routes/jobs.ts`);
    assertReports(
      `${S}/routes/uses-dispatcher.ts`,
      'import-x/no-restricted-paths',
      /core\/grid\.ts, only/,
    );
    assertReports(
      `${S}/routes/uses-store.ts`,
      'import-x/no-restricted-paths',
      /never touch the store/,
    );
    assertReports(
      `${S}/routes/uses-telemetry.ts`,
      'import-x/no-restricted-paths',
      /never touch the store/,
    );
  });
});

describe('packages', () => {
  it('the protocol imports no other workspace package', () => {
    assertReports(
      'packages/protocol/src/uses-sdk.ts',
      'no-restricted-imports',
      /protocol imports no other/,
    );
  });
  it('the SDK never imports server code', () => {
    assertReports(
      'packages/sdk/src/uses-server.ts',
      'no-restricted-imports',
      /SDK speaks the protocol only/,
    );
  });
  it("nobody reaches into another package's src/, by name or by relative path", () => {
    assertReports('packages/sdk/src/relative-deep.ts', 'no-restricted-imports', /exports map/);
  });
});

describe('import cycles', () => {
  it('a value cycle is reported on both sides', () => {
    assertReports(
      'packages/sdk/src/value-a.ts',
      'tabgrid/no-import-cycle',
      /value-a\.ts → .*value-b\.ts → .*value-a\.ts/,
    );
    assertReports('packages/sdk/src/value-b.ts', 'tabgrid/no-import-cycle', /Import cycle/);
  });
  it('a require() cycle between .cjs files is reported', () => {
    assertReports(
      'scripts/cjs-a.cjs',
      'tabgrid/no-import-cycle',
      /cjs-a\.cjs → scripts\/cjs-b\.cjs → /,
    );
    assertReports('scripts/cjs-b.cjs', 'tabgrid/no-import-cycle', /Import cycle/);
  });
  it('a cycle made only of `import type` is reported, with its route', () => {
    for (const f of ['a', 'b', 'c']) {
      assertReports(
        `packages/sdk/src/type-${f}.ts`,
        'tabgrid/no-import-cycle',
        /type-.\.ts → .*type-.\.ts → .*type-.\.ts → /,
      );
    }
    // Importing into a cycle is not itself a cycle.
    assertClean('packages/sdk/src/no-cycle.ts');
  });
});

describe('small modules', () => {
  it('a source file over 400 lines is an error; a test file is not held to it', () => {
    assertReports('packages/sdk/src/long.ts', 'max-lines', /too many lines \(401\)/);
    assertClean('packages/sdk/src/long.test.ts');
  });
});

describe('.js/.mjs files', () => {
  it('are linted: an undefined name in a bench .mjs file is an error', () => {
    assertReports('bench/broken.mjs', 'no-undef', /notDefinedAnywhere/);
  });
});

describe('docs', () => {
  it('every docs/architecture.md#anchor named by a lint message is a heading of that doc', () => {
    // Anchors from the messages really reported above, and from every message the config holds.
    const config = fs.readFileSync(path.join(repoRoot, 'eslint.config.js'), 'utf8');
    const texts = [config.replaceAll('${DOC}', 'docs/architecture.md')];
    for (const messages of reported.values()) texts.push(...messages.map((m) => m.message));
    const anchors = new Set(
      [...texts.join('\n').matchAll(/docs\/architecture\.md#([a-z-]+)/g)].map((m) => m[1]),
    );
    const doc = fs.readFileSync(path.join(repoRoot, 'docs/architecture.md'), 'utf8');
    const headings = new Set(
      [...doc.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    assert.ok(anchors.size >= 3, [...anchors].join(','));
    for (const anchor of anchors) assert.ok(headings.has(anchor), `no heading for #${anchor}`);
  });
});
