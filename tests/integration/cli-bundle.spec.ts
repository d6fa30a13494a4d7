import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm install` (prepare) leaves the CLI bundled in dist-cli/; bin/outpost.mjs runs it and rebuilds it when a
// source changed. The bundle must keep each command's heavy dependencies out of start-up.
const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist-cli');
const manifest = () => JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8')) as { entry: string; inputs: Record<string, number> };

/** The files an ES module loads before it runs: itself and its static imports, recursively. */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(join(dist, file), 'utf8');
  // Minified: several statements share a line (`import{a}from"./x.mjs";import"./y.mjs";`).
  for (const m of src.matchAll(/(?:^|[;\n}])\s*import\s*(?:[^;"'()]*?from\s*)?"(\.[^"]+)"/g)) staticClosure(join(file, '..', m[1]!), seen);
  return seen;
}

/** Every file of this build a run may load: static and dynamic imports, from the entry on. */
function reachable(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const m of readFileSync(join(dist, file), 'utf8').matchAll(/(?:\bimport\s*\(\s*|from\s*|\bimport\s*)"(\.\/[^"]+\.mjs)"/g)) reachable(join(file, '..', m[1]!), seen);
  return seen;
}

describe('CLI bundle', () => {
  it('builds with esbuild: ES module chunks, native modules external, the package version defined', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { entry, inputs } = manifest();
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['electron/cli/main.ts', 'electron/core/app.ts', 'package.json']));
    const all = [...staticClosure(entry)].map((f) => readFileSync(join(dist, f), 'utf8')).join('\n');
    // What `outpost info` loads before running: commander and the commands, not the services or their libraries.
    expect(staticClosure(entry).size).toBeGreaterThan(1);
    for (const heavy of ['ssh2', 'dockerode', 'better-sqlite3', 'mqtt', 'yaml']) expect(all).not.toMatch(new RegExp(`from\\s*"${heavy}"|require\\("${heavy}"\\)`));
    expect(all).not.toContain('$ZodObject');
    // Only the command a run names is loaded: the entry holds no command's code.
    const sourcesOf = (file: string): string[] => (JSON.parse(readFileSync(join(dist, `${file}.map`), 'utf8')) as { sources: string[] }).sources.map((s) => s.replace(/^(\.\.\/)+/, ''));
    const entrySources = [...staticClosure(entry)].flatMap(sourcesOf);
    expect(entrySources.filter((s) => s.startsWith('electron/cli/commands/'))).toEqual([]);
    // The core validates with one contract area at a time: what it loads before its first request holds neither the
    // contract's index (every area's schemas) nor the areas of services it has not built.
    const coreChunk = [...reachable(entry)].find((f) => sourcesOf(f)[0] === 'electron/core/app.ts');
    expect(coreChunk).toBeDefined();
    const coreSources = [...staticClosure(coreChunk!)].flatMap(sourcesOf);
    expect(coreSources).toContain('electron/core/router.ts');
    for (const area of ['index', 'workloads', 'pki', 'latency', 'serial', 'sessions', 'buffers', 'discovery']) expect(coreSources).not.toContain(`shared/contract/${area}.ts`);
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const home = mkdtempSync(join(tmpdir(), 'outpost-bundle-'));
    const info = spawnSync(process.execPath, [join(root, 'bin', 'outpost.mjs'), 'info', '--json'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
    expect(info.status).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ name: 'Outpost', version, dataDir: home });
  }, 60_000);

  it('bundles the segment writer thread as its own entry, started from beside the chunks (no esbuild at run time)', () => {
    expect(manifest().inputs['electron/core/buffers/segment-writer-worker.ts']).toBeDefined();
    const files = readdirSync(dist);
    // The chunk that starts the thread names its file relative to itself (outputs of earlier builds may linger).
    const named = files.filter((f) => f.endsWith('.mjs')).flatMap((f) => [...readFileSync(join(dist, f), 'utf8').matchAll(/new Worker\(new URL\("\.\/(segment-writer-worker-[A-Z0-9]+\.mjs)",import\.meta\.url\)/g)].map((m) => m[1]!));
    expect(named.length).toBeGreaterThan(0);
    for (const file of named) expect(files).toContain(file);
    const worker = named[0];
    // The worker is self-contained: it imports only Node's modules.
    const src = readFileSync(join(dist, worker!), 'utf8');
    expect([...src.matchAll(/from\s*"([^"]+)"/g)].map((m) => m[1]).every((s) => s!.startsWith('node:'))).toBe(true);
  });

  it('rebuilds when a source is newer than the bundle', () => {
    const before = manifest();
    writeFileSync(join(dist, 'manifest.json'), JSON.stringify({ ...before, inputs: { ...before.inputs, 'electron/cli/main.ts': 0 } }));
    const r = spawnSync(process.execPath, [join(root, 'bin', 'outpost.mjs'), '--version'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(manifest().inputs['electron/cli/main.ts']).toBeGreaterThan(0);
  }, 60_000);
});
