import { fileURLToPath } from 'node:url';

/** Where `vite build` puts the renderer (see vite.config.ts). */
export function rendererDistDir(): string {
  return fileURLToPath(new URL('../../dist/renderer/', import.meta.url));
}
