// ESLint for the whole project: typescript-eslint's recommended rules with type information, so a promise
// that is neither awaited nor handled (easy to miss since the stores became asynchronous) fails CI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'charts/**', 'drizzle/**', 'drizzle-pg/**', '.ci/out/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      // Prettier wraps code at 120; this catches what it cannot wrap: comments, strings, templates (SQL) and
      // patterns, which are split into joined pieces (SQL at whitespace). Only a URL stays whole.
      'max-len': ['error', { code: 120, ignoreUrls: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests read platform payloads loosely on purpose: `any` there is an assertion's shorthand, not a type.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  // Plain-JS node preloads (test/helpers/shift-clock.mjs): no type information, node's `process`.
  { files: ['**/*.mjs'], languageOptions: { globals: { process: 'readonly' } } },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
);
