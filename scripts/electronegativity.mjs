#!/usr/bin/env node
// Runs Electronegativity (Doyensec's Electron security linter) over the Electron shell and the built renderer, and
// fails on any finding that is neither fixed nor justified in scripts/electronegativity-justified.json.
// Electronegativity fetches translations and Electron's release list at start; the scan runs in a network namespace
// of its own with no interface up (`unshare -n`, root), so nothing leaves the machine and the fetches fail at once.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const NO_NET = 'OUTPOST_ELECTRONEGATIVITY_NO_NET';

if (process.env[NO_NET] !== '1') {
  const r = spawnSync('unshare', ['-n', process.execPath, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, [NO_NET]: '1' } });
  if (r.error) {
    console.error(`electronegativity: could not start the scan without network (unshare -n needs root): ${r.error.message}`);
    process.exit(1);
  }
  process.exit(r.status ?? 1);
}

const index = join(root, 'dist', 'renderer', 'index.html');
if (!existsSync(index)) {
  console.error('electronegativity: dist/renderer/index.html is missing; run `npx vite build` first');
  process.exit(1);
}

// What ships: the Electron shell's sources (main, preload, ipc and the core they pull in, without specs), the
// built index.html (its CSP), and package.json (the Electron version).
const stage = mkdtempSync(join(tmpdir(), 'outpost-electronegativity-'));
try {
  cpSync(join(root, 'package.json'), join(stage, 'package.json'));
  cpSync(join(root, 'electron'), join(stage, 'electron'), { recursive: true, filter: (src) => !src.endsWith('.spec.ts') });
  cpSync(index, join(stage, 'dist', 'renderer', 'index.html'));

  const require = createRequire(import.meta.url);
  const runner = require('@doyensec/electronegativity/dist/runner.js');
  const log = console.log;
  console.log = (...args) => console.error(...args); // its own chatter goes to stderr
  const result = await (runner.default ?? runner)(
    { input: stage, isSarif: false, customScan: [], excludeFromScan: [], isRelative: true, parserPlugins: [] },
    false,
  );
  console.log = log;

  const justified = JSON.parse(readFileSync(join(root, 'scripts', 'electronegativity-justified.json'), 'utf8'));
  const key = (id, file) => `${id} ${file}`;
  const reasons = new Map(justified.map((j) => [key(j.id, j.file), j.reason]));
  const used = new Set();
  const open = [];
  for (const issue of result.issues) {
    const k = key(issue.id, issue.file);
    const where = `${issue.file}:${issue.location.line}:${issue.location.column}`;
    if (reasons.has(k)) {
      used.add(k);
      console.log(`justified  ${issue.id} at ${where}: ${reasons.get(k)}`);
    } else {
      open.push(`${issue.id} (${issue.severity.name ?? ''}) at ${where}: ${issue.description}\n    ${String(issue.sample ?? '').slice(0, 160)}`);
    }
  }
  for (const e of result.errors.filter((e) => !e.tolerable)) open.push(`could not parse ${e.file}: ${e.message}`);
  for (const [k] of reasons) if (!used.has(k)) console.log(`stale      ${k}: justified but no longer reported (remove it from the list)`);
  console.log(`electronegativity: ${result.atomicChecks + result.globalChecks} checks, ${result.issues.length} findings, ${used.size} justified, ${open.length} open`);
  if (open.length > 0) {
    console.log(`\nFix these, or justify each in scripts/electronegativity-justified.json:\n  ${open.join('\n  ')}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
