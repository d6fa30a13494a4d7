#!/usr/bin/env node
// The `outpost` CLI: runs the bundle in dist-cli/ (scripts/build-cli.mjs, built by `npm install`'s prepare step).
// In a checkout, a source newer than the bundle rebuilds it first (~0.5 s, once), so the CLI never runs stale code.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist-cli');

function readManifest() {
  try {
    return JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8'));
  } catch {
    return null;
  }
}

function isStale(manifest) {
  if (!manifest) return true;
  // An installed package ships the bundle without its sources: nothing to compare.
  if (!existsSync(join(root, 'electron'))) return false;
  for (const [input, mtimeMs] of Object.entries(manifest.inputs)) {
    try {
      if (statSync(join(root, input)).mtimeMs !== mtimeMs) return true;
    } catch {
      return true;
    }
  }
  return false;
}

let manifest = readManifest();
if (isStale(manifest)) {
  try {
    const { buildCli } = await import('../scripts/build-cli.mjs');
    manifest = await buildCli();
  } catch (err) {
    if (!manifest) throw err;
    process.stderr.write(`outpost: could not rebuild the CLI bundle (${err.message}); running the existing one\n`);
  }
}
await import(pathToFileURL(join(dist, manifest.entry)).href);
