import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', 'packages/*/dist/', 'packages/client/src/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['express', 'express-*', '@kubernetes/*', 'better-sqlite3', 'winston', 'node:fs', 'node:fs/*', 'fs', 'node:child_process', 'child_process', '../*'], message: 'src/core is pure: no I/O, no adapters.' },
        ],
      }],
    },
  },
  {
    files: ['test/**/*.ts', 'test/**/*.mjs', 'bench/**/*.ts', 'examples/**/*.js', 'examples/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
