import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Set by the Electron bundle (scripts/build-electron.mjs): a bundle has no package.json beside its modules. */
declare const __OUTPOST_VERSION__: string | undefined;

function readVersion(): string {
  if (typeof __OUTPOST_VERSION__ === 'string') return __OUTPOST_VERSION__;
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const APP_VERSION = readVersion();
