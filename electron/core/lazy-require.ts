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

/**
 * dockerode, without loading its BuildKit session support up front: `lib/session.js` pulls in @grpc/grpc-js and
 * protobufjs (~130 ms of CPU at every first engine call) and serves only `buildImage({ version: '2' })`, which
 * Outpost never calls. A stand-in takes its place in the require cache and loads the real module if it is ever used.
 */
export function dockerodeModule<T>(): T {
  return (dockerodeLoaded ??= loadDockerode()) as T;
}

let dockerodeLoaded: unknown;

function loadDockerode(): unknown {
  const cache = load.cache as unknown as Record<string, unknown> | undefined;
  let sessionPath: string | undefined;
  try {
    sessionPath = load.resolve('dockerode/lib/session.js');
  } catch {
    // A dockerode without that file (another layout): load it whole.
  }
  if (sessionPath && cache && !cache[sessionPath]) {
    const path = sessionPath;
    const withSession = (...args: unknown[]): unknown => {
      delete cache[path];
      return (load(path) as (...a: unknown[]) => unknown)(...args);
    };
    cache[path] = { id: path, filename: path, loaded: true, exports: withSession, children: [], paths: [] };
  }
  return load('dockerode');
}
