import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Builds `dist/renderer` with vite when it is missing or older than what goes into it. Same rule as `npm start`. */
export function ensureRendererBuilt(): string {
  const outDir = join(repoRoot, 'dist', 'renderer');
  const index = join(outDir, 'index.html');
  const sources = ['renderer', 'shared', 'resources', 'vite.config.ts', 'electron/core/csp.ts'].map((p) => join(repoRoot, p)).filter((p) => existsSync(p));
  const stale = !existsSync(index) || statSync(index).mtimeMs < Math.max(...sources.map(newestMtime));
  if (stale) {
    const viteBin = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
    // vitest sets NODE_ENV=test, which would make vite emit React's development build.
    execFileSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  }
  return outDir;
}
