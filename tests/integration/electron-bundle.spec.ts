import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm start` bundles the Electron shell before launching it; the Electron binary cannot run here, but the bundle
// it would load can be built and checked.
const root = join(import.meta.dirname, '..', '..');

describe('Electron bundle', () => {
  it('builds main and preload as CommonJS, carrying the package version', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-electron.mjs')], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const main = readFileSync(join(root, 'dist-electron', 'main.cjs'), 'utf8');
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    // electron/core/version.ts cannot find package.json from inside a bundle: the build defines it.
    expect(main).toContain(`return ${JSON.stringify(version)}`);
    expect(main).toContain('require("electron")');
    expect(readFileSync(join(root, 'dist-electron', 'preload.cjs'), 'utf8')).toContain('contextBridge');
  }, 60_000);
});
