#!/usr/bin/env node
// Bundles the CLI (electron/cli/main.ts) to dist-cli/ as ES modules, one chunk per lazily imported service, so
// `outpost <command>` loads only what that command needs and no TypeScript is compiled at run time.
// Runs at `npm install` (the `prepare` script) and again from bin/outpost.mjs when a source is newer than the bundle.
// Native modules (better-sqlite3, ssh2 with its optional cpu-features, serialport) and dockerode stay external:
// they load from node_modules at run time, and only when a command uses them.
//
// Several CLI processes may rebuild at once (tests spawn them in parallel): every output file is content-hashed and
// written by rename, and manifest.json, which names the entry, is replaced last — a process never reads a half file.
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = join(root, 'dist-cli');
const WRITER_WORKER = 'segment-writer-worker';
export const EXTERNAL = ['electron', 'better-sqlite3', 'ssh2', 'serialport', '@serialport/*', 'cpu-features', 'dockerode'];

function writeAtomic(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/**
 * zod's namespace re-exports every locale (~360 KB of the ~740 KB zod chunk); code splitting cannot shake a
 * namespace, so every CLI start would compile them all. Outpost's messages are English: only `en` is bundled
 * (z.locales.<other>() is never called).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: join(args.resolveDir, args.path), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: dirname(args.path), loader: 'js' }));
  },
};

/** Builds the bundle; returns the manifest ({ entry, inputs: { path: mtimeMs } }) that bin/outpost.mjs reads. */
export async function buildCli() {
  const { build } = await import('esbuild');
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  // The segment writer's thread is its own program, bundled here once: a flush starts it from this file and never
  // compiles TypeScript at run time. Built first, so the CLI's bundle can name it.
  const worker = await build({
    absWorkingDir: root,
    entryPoints: { [WRITER_WORKER]: `electron/core/buffers/${WRITER_WORKER}.ts` },
    outdir,
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
  });
  const workerFile = Object.entries(worker.metafile.outputs).find(([, o]) => o.entryPoint)?.[0];
  if (!workerFile) throw new Error(`build-cli: esbuild produced no entry for ${WRITER_WORKER}.ts`);
  const result = await build({
    absWorkingDir: root,
    entryPoints: { outpost: 'electron/cli/main.ts' },
    outdir,
    entryNames: '[name]-[hash]',
    // Flat, beside the entry: the root-relative paths defined below hold in every chunk.
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    write: false,
    metafile: true,
    external: EXTERNAL,
    logLevel: 'warning',
    // Fewer bytes for V8 to compile at each start (names are kept: stack traces and error classes read the same).
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [zodEnglishOnly],
    // Bundled CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __outpostCreateRequire } from 'node:module'; const require = __outpostCreateRequire(import.meta.url);" },
    define: {
      // electron/core/version.ts and electron/server/paths.ts find package.json and dist/ relative to their module.
      __OUTPOST_VERSION__: JSON.stringify(version),
      __OUTPOST_ROOT_FROM_BUNDLE__: JSON.stringify('../'),
      // OffThreadWriter starts this file, beside its own chunk (every output is flat in dist-cli/).
      __OUTPOST_WRITER_ENTRY__: JSON.stringify(relative(outdir, join(root, workerFile))),
    },
  });
  const written = new Set();
  for (const file of [...worker.outputFiles, ...result.outputFiles]) {
    written.add(relative(outdir, file.path));
    // Content-hashed names: a file that exists already has these bytes.
    if (!existsSync(file.path)) writeAtomic(file.path, file.contents);
  }
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'electron/cli/main.ts')?.[0];
  if (!entry) throw new Error('build-cli: esbuild produced no entry for electron/cli/main.ts');
  const inputs = {};
  const sources = new Set([...Object.keys(worker.metafile.inputs), ...Object.keys(result.metafile.inputs)].filter((p) => !p.includes('node_modules/')));
  for (const input of [...sources, 'package.json']) {
    inputs[input] = statSync(join(root, input)).mtimeMs;
  }
  const manifest = { entry: relative(outdir, join(root, entry)), inputs };
  writeAtomic(join(outdir, 'manifest.json'), JSON.stringify(manifest));
  removeOldOutputs(written);
  return manifest;
}

/** Outputs of earlier builds, once they are old enough that no running CLI can still be loading them. */
function removeOldOutputs(keep) {
  const cutoff = Date.now() - 10 * 60_000;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name !== 'manifest.json' && !keep.has(relative(outdir, path)) && statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
    }
  };
  walk(outdir);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = Date.now();
  const manifest = await buildCli();
  console.log(`build-cli: dist-cli/${manifest.entry} (${Object.keys(manifest.inputs).length} sources, ${Date.now() - t0} ms)`);
}
