import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', '.state/', '.venv/', 'test/fixtures/histories/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed by Temporal: no I/O, no Node built-ins, no clocks or randomness of our own.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Workflows must be deterministic: do I/O in an activity.' },
            {
              group: ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'],
              message: 'Workflows must be deterministic: do I/O in an activity.',
            },
            {
              group: ['**/activities/*', '!**/activities/types.js'],
              message: 'Import activities as types only (proxyActivities).',
            },
            {
              group: ['**/engines/**', '**/ledger/*', '!**/ledger/types.js', '**/sources/**', 'pg'],
              message:
                'Workflows only orchestrate; engines, ledger and sources are reached through activities.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
