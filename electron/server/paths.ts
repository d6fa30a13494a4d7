import { fileURLToPath } from 'node:url';

/** Set by the CLI bundle (scripts/build-cli.mjs): the app root relative to the bundle's folder. */
declare const __OUTPOST_ROOT_FROM_BUNDLE__: string | undefined;

/** Where `vite build` puts the renderer (see vite.config.ts). */
export function rendererDistDir(): string {
  const root = typeof __OUTPOST_ROOT_FROM_BUNDLE__ === 'string' ? __OUTPOST_ROOT_FROM_BUNDLE__ : '../../';
  return fileURLToPath(new URL(`${root}dist/renderer/`, import.meta.url));
}
