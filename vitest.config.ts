import { defineConfig } from 'vitest/config';

// Three projects: unit specs beside the code (no root, no network), lab tests against the
// real device lab (root, network namespaces), and e2e through Chromium in browser mode.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['electron/**/*.spec.ts', 'shared/**/*.spec.ts', 'renderer/**/*.spec.{ts,tsx}', 'tests/integration/**/*.spec.ts', 'tests/bench/**/*.spec.ts'],
          environment: 'node',
          testTimeout: 20_000,
          globalSetup: ['tests/cli-bundle.setup.ts'],
        },
      },
      {
        test: {
          name: 'lab',
          include: ['tests/lab/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          globalSetup: ['tests/cli-bundle.setup.ts'],
          hookTimeout: 240_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
