import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const electronOnly = ['electron/main.ts', 'electron/preload.ts', 'electron/ipc.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'dist-electron/**', 'dist-cli/**', 'release/**', 'node_modules/**', 'tests/artifacts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Only the three Electron shell files may import electron.
    files: ['**/*.{ts,tsx,js,mjs}'],
    ignores: electronOnly,
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'only electron/main.ts, preload.ts and ipc.ts import electron' }] }],
    },
  },
  {
    // The contract's index evaluates every area's zod schemas (~10 MiB, tens of ms): the core, the CLI and the server
    // import values from the area's own file (shared/contract/<area>.ts), and only types from the index.
    files: ['electron/**/*.ts'],
    ignores: [...electronOnly, '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)shared/contract(/index)?$', allowTypeImports: true, message: 'import values from shared/contract/<area> (the index builds every area\'s schemas); the index is for types' }] },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'the renderer talks to the core only through window.outpost' }],
          patterns: [{ group: ['**/electron/**', '../electron/*', '../../electron/*'], message: 'renderer/ never imports electron/: use the shared contract' }],
        },
      ],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'shared/ is the contract; it imports neither electron nor the app' }],
          patterns: [{ group: ['**/electron/**', '**/renderer/**', 'node:*'], message: 'shared/ imports neither electron/ nor renderer/ nor Node built-ins' }],
        },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node } },
  },
);
