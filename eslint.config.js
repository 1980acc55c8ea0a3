// One linter for the whole repo. Type-aware rules run through the TypeScript project service on
// the .ts/.tsx files; .js/.mjs/.cjs files are linted too, without type information.
//
// The architecture's import rules are data (BOUNDARIES below), turned into rule options by
// `boundaryBlocks`. Why not one block per rule: in a flat config, a later block's options for a
// rule REPLACE an earlier block's for the files both match, so two `no-restricted-imports` blocks
// never add up. Here every folder gets one block holding all the package bans that apply to it,
// and folder-to-folder bans are zones of one `import-x/no-restricted-paths`, which add up by
// construction. scripts/lint/lint-rules.test.mjs proves each rule on a deliberate violation.
// The rules are explained in docs/architecture.md; every message points there.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import tabgrid from './scripts/lint/no-import-cycle.mjs';

const DOC = 'docs/architecture.md';
const SERVER = 'apps/server/src';
const SOURCE_FILES = '**/*.{ts,tsx,mts,cts,js,mjs,cjs}';
const JS_FILES = ['**/*.js', '**/*.mjs', '**/*.cjs'];
/** Longest non-test source file (docs/architecture.md#small-modules). */
const MAX_MODULE_LINES = 400;
const TEST_FILES = '**/*.test.{ts,tsx,mts,js,mjs}';

// Package names (regexes over the import specifier) that a layer must not see.
const FRAMEWORKS = '^(fastify|@fastify/.+|ws|socket\\.io)(/.*)?$';
const SQLITE = '^better-sqlite3(/.*)?$';
const POSTGRES = '^pg(/.*)?$';
const WORKSPACE = (names) => `^@tabgrid/(${names.join('|')})(/.*)?$`;

/**
 * The import rules, one entry per promise of docs/architecture.md. `in`: folders (relative to the
 * repo root; '.' is everything) whose files the entry binds. `packages`: specifiers they may not
 * import (regex → message). `folders`: folders they may not import from, with `except` files
 * (relative to that folder). An entry adds to every other entry that covers the same file.
 */
export const BOUNDARIES = [
  {
    in: ['.'],
    packages: [
      {
        // By name (`@tabgrid/x/src/…`) or by climbing out of the package (`../../x/src/…`).
        regex: '^(@tabgrid/[^/]+/|(\\.\\./)+(.+/)?)(src|dist)(/|$)',
        message: `Import a package by its name; its exports map is its public surface, never its src/ or dist/ (${DOC}#packages).`,
      },
    ],
  },
  {
    in: ['packages/protocol'],
    packages: [
      {
        regex: '^@tabgrid/',
        message: `The protocol imports no other workspace package: everyone depends on it (${DOC}#packages).`,
      },
      {
        regex: '^node:',
        message: `The protocol runs in browsers and Node alike: no Node built-ins (${DOC}#packages).`,
      },
    ],
  },
  {
    in: ['packages/job-runtime'],
    packages: [
      {
        regex: WORKSPACE(['sdk', 'server', 'fleet', 'worker-web', 'dashboard']),
        message: `The job runtime depends on the protocol only: the worker page and the SDK's local runs both ship it (${DOC}#packages).`,
      },
    ],
  },
  {
    in: ['packages/sdk'],
    packages: [
      {
        regex: WORKSPACE(['server', 'fleet', 'worker-web', 'dashboard']),
        message: `The SDK speaks the protocol only; it never imports server, fleet or app code (${DOC}#packages).`,
      },
      {
        regex: `${FRAMEWORKS}|${SQLITE}`,
        message: `The SDK is a client: no server framework, no store (${DOC}#packages).`,
        // Its tests may stand up a raw socket.io server that answers wrongly on purpose.
        inTests: false,
      },
    ],
  },
  {
    in: ['apps/worker-web'],
    packages: [
      {
        regex: WORKSPACE(['server', 'fleet', 'dashboard']),
        message: `The worker page depends on the protocol (and the SDK), never on the server, fleet or dashboard (${DOC}#packages).`,
      },
    ],
  },
  {
    in: ['apps/dashboard'],
    packages: [
      {
        regex: WORKSPACE(['server', 'fleet', 'worker-web']),
        message: `The dashboard talks to the server through the SDK and protocol only (${DOC}#packages).`,
      },
    ],
  },
  {
    in: ['examples'],
    packages: [
      {
        regex: WORKSPACE(['protocol', 'server', 'fleet', 'worker-web', 'dashboard']),
        message: `Examples use what a user installs: @tabgrid/sdk only (${DOC}#packages).`,
      },
    ],
  },
  {
    in: [`${SERVER}/store`],
    packages: [
      {
        regex: FRAMEWORKS,
        message: `store/ is framework-free: no Fastify, ws or socket.io (${DOC}#server-layers).`,
      },
    ],
    folders: [
      {
        from: ['core', 'leases', 'telemetry', 'routes'].map((f) => `${SERVER}/${f}`),
        message: `store/ never imports the core, leases, telemetry or routes: they depend on the store, not the other way (${DOC}#server-layers).`,
      },
    ],
  },
  {
    in: ['core', 'leases', 'telemetry'].map((f) => `${SERVER}/${f}`),
    packages: [
      {
        regex: `${FRAMEWORKS}|${SQLITE}|${POSTGRES}`,
        message: `The core is framework-free and adapter-free: no Fastify, ws, socket.io, better-sqlite3 or pg (${DOC}#server-layers).`,
      },
    ],
    folders: [
      {
        from: [`${SERVER}/store/**/sqlite-*`],
        message: `The core sees the store through store/job-store.ts (the interface), never a SQLite adapter; app.ts wires the adapter in (${DOC}#server-layers).`,
      },
      {
        from: [`${SERVER}/store/postgres`],
        message: `The core sees the store through store/job-store.ts (the interface), never the PostgreSQL adapter; app.ts wires the adapter in (${DOC}#server-layers).`,
      },
      {
        from: [`${SERVER}/routes`],
        message: `The core never imports routes/: routes call the core (${DOC}#server-layers).`,
      },
    ],
  },
  {
    in: [`${SERVER}/routes`],
    folders: [
      {
        from: [`${SERVER}/core`],
        except: ['./grid.ts'],
        message: `routes/ reach the core through its facade, core/grid.ts, only (${DOC}#server-layers).`,
      },
      {
        from: ['store', 'leases', 'telemetry'].map((f) => `${SERVER}/${f}`),
        message: `routes/ never touch the store, leases or telemetry: ask the Grid facade (core/grid.ts) (${DOC}#server-layers).`,
      },
    ],
  },
];

/** True when folder `inner` is `outer` or lies inside it. */
function covers(outer, inner) {
  return outer === '.' || inner === outer || inner.startsWith(`${outer}/`);
}

/**
 * One `no-restricted-imports` block per folder, holding the bans of every entry that covers the
 * folder, shallow folders first so that a deeper (more complete) block wins for its files.
 */
function packageBlocks(boundaries) {
  const folders = [...new Set(boundaries.flatMap((b) => (b.packages ? b.in : [])))].sort((a, b) =>
    a === '.' ? -1 : b === '.' ? 1 : a.split('/').length - b.split('/').length,
  );
  return folders.flatMap((folder) => {
    const glob = (files) => (folder === '.' ? files : `${folder}/${files}`);
    const bans = boundaries
      .filter((b) => b.packages && b.in.some((outer) => covers(outer, folder)))
      .flatMap((b) => b.packages);
    const block = (name, files, patterns) => ({
      name,
      files: [files],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: patterns.map(({ inTests: _inTests, ...pattern }) => pattern) },
        ],
      },
    });
    const blocks = [block(`tabgrid/imports:${folder}`, glob(SOURCE_FILES), bans)];
    // A ban marked `inTests: false` binds the folder's sources, not its tests.
    const testBans = bans.filter((ban) => ban.inTests !== false);
    if (testBans.length < bans.length) {
      blocks.push(block(`tabgrid/imports:${folder}:tests`, glob(TEST_FILES), testBans));
    }
    return blocks;
  });
}

/** All folder bans as zones of one `import-x/no-restricted-paths`: zones add up. */
function pathZones(boundaries) {
  return boundaries.flatMap((b) =>
    (b.folders ?? []).flatMap((ban) =>
      b.in.map((target) => ({
        target,
        from: ban.from,
        ...(ban.except ? { except: ban.except } : {}),
        message: ban.message,
      })),
    ),
  );
}

/**
 * The whole config for a repo rooted at `rootDir` (the lint-rule test builds it for a scratch
 * tree laid out like this repo).
 */
export function tabgridConfig(rootDir) {
  return tseslint.config(
    {
      ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/test-results/**'],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir: rootDir },
      },
      plugins: { 'import-x': importX, tabgrid },
      settings: {
        'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })],
      },
      rules: {
        '@typescript-eslint/switch-exhaustiveness-check': [
          'error',
          { considerDefaultExhaustiveForUnions: true },
        ],
        '@typescript-eslint/no-unused-vars': [
          'error',
          { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
        ],
        '@typescript-eslint/no-floating-promises': 'error',
        'import-x/no-restricted-paths': [
          'error',
          { basePath: rootDir, zones: pathZones(BOUNDARIES) },
        ],
        'tabgrid/no-import-cycle': 'error',
      },
    },
    ...packageBlocks(BOUNDARIES),
    {
      // Scripts, benches, examples and tool configs: no type information (they are in no
      // tsconfig), Node's globals.
      files: JS_FILES,
      ...tseslint.configs.disableTypeChecked,
      languageOptions: {
        ...tseslint.configs.disableTypeChecked.languageOptions,
        globals: globals.node,
      },
    },
    {
      // Small modules: a source file over 400 lines is split by concern (tests aside).
      name: 'tabgrid/small-modules',
      files: [SOURCE_FILES],
      ignores: [TEST_FILES, '**/*.spec.ts', '**/*.conformance.ts'],
      rules: { 'max-lines': ['error', { max: MAX_MODULE_LINES }] },
    },
    {
      // CommonJS files load with require(); that is their import.
      files: ['**/*.cjs'],
      languageOptions: { sourceType: 'commonjs' },
      rules: { '@typescript-eslint/no-require-imports': 'off' },
    },
    {
      // Asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
      files: ['**/*.test.ts', '**/*.spec.ts', '**/*.conformance.ts'],
      rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
    },
  );
}

export default tabgridConfig(import.meta.dirname);
