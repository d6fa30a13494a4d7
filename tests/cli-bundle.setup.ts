import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// Every test that spawns bin/outpost.mjs runs the esbuild bundle in dist-cli/. The bin script rebuilds a stale
// bundle itself; doing it once here keeps that (~1-3 s) out of any test's own timing and timeouts.
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'outpost.mjs'), '--version'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not build the CLI bundle: ${r.stderr || r.stdout}`);
}
