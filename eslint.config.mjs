import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', setImmediate: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The layers (docs/architecture.md): src/ftp → src/remote → src/sync → src/vscode. Nothing below
    // the glue imports `vscode`, and no layer imports one above it.
    files: ['src/ftp/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'], patterns: ['**/remote/**', '**/sync/**', '**/vscode/**'] }] },
  },
  {
    files: ['src/remote/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'], patterns: ['**/sync/**', '**/vscode/**'] }] },
  },
  {
    files: ['src/sync/**/*.ts', 'src/migrate/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'], patterns: ['**/vscode/**'] }] },
  },
  {
    // Search (index, text search, content cache) sits beside src/sync, on src/remote and src/ftp.
    files: ['src/search/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['vscode'], patterns: ['**/sync/**', '**/vscode/**'] }] },
  },
  {
    // Mocha loads reporters with require(): these stay CommonJS.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
