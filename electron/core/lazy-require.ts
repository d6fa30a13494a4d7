import { createRequire } from 'node:module';

// The CLI's bundle (an ES module) and the Electron bundle (CommonJS) both have a `require`; plain ESM (tsx, vitest)
// gets one from createRequire.
const load: NodeJS.Require = typeof require === 'function' ? require : createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded on first use, synchronously. For the heavy ones (ssh2, dockerode, better-sqlite3):
 * a command that never opens a link or an engine never pays for loading them (dockerode alone costs ~150 ms).
 */
export function lazyModule<T>(name: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(name) as T);
}
