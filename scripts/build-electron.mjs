#!/usr/bin/env node
// Bundles the Electron shell (main + preload) to dist-electron/ as CommonJS. Native modules and electron itself
// stay external: they are loaded from node_modules at run time (and rebuilt for Electron's ABI by the packager).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const entries = [
  { in: 'electron/main.ts', out: 'main' },
  { in: 'electron/preload.ts', out: 'preload' },
  // A worker thread's program is its own entry; OffThreadWriter starts it from beside main.cjs.
  { in: 'electron/core/buffers/segment-writer-worker.ts', out: 'segment-writer-worker' },
];

const missing = entries.filter((e) => !existsSync(`${root}${e.in}`)).map((e) => e.in);
if (missing.length > 0) {
  console.error(`build-electron: ${missing.join(' and ')} not found; nothing to bundle yet`);
  process.exit(1);
}

await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir: 'dist-electron',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: true,
  external: ['electron', 'better-sqlite3', 'ssh2', 'serialport', '@serialport/*', 'cpu-features', 'dockerode'],
  logLevel: 'warning',
  // electron/core/version.ts reads package.json beside its module, which a bundle does not have.
  define: {
    __OUTPOST_VERSION__: JSON.stringify(JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version),
    // CommonJS has no import.meta: the module's own URL, from __filename (electron/core/lazy-require.ts uses it).
    'import.meta.url': '__outpostModuleUrl',
    // The segment writer's thread is bundled as its own entry; OffThreadWriter starts that file in a bundle.
    __OUTPOST_BUNDLE__: JSON.stringify('electron'),
  },
  banner: { js: "const __outpostModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
