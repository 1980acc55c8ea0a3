// One linter for the whole repo. Type-aware rules run through the TypeScript project service.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.turbo/**',
      '**/test-results/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
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
      // Packages talk through their `exports` maps only: no deep imports into another package.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tabgrid/*/src/*', '@tabgrid/*/dist/*'],
              message: 'Import the package by name; its exports map is its public surface.',
            },
          ],
        },
      ],
    },
  },
  {
    // The scheduler and the store are framework-free: they never see Fastify or sockets.
    files: ['apps/server/src/scheduler/**/*.ts', 'apps/server/src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['fastify', '@fastify/websocket', 'socket.io', 'ws'].map((name) => ({
            name,
            message: 'scheduler/ and store/ must stay framework-free (see design.md).',
          })),
          patterns: [
            { group: ['**/routes/*'], message: 'scheduler/ and store/ never import routes/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/server/src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/scheduler/*', '**/routes/*'],
              message: 'Store adapters never import the scheduler or routes.',
            },
          ],
        },
      ],
    },
  },
  {
    // Asymmetric matchers (expect.any, expect.stringMatching) are typed `any`.
    files: ['**/*.test.ts', '**/*.spec.ts', '**/*.conformance.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
);
