import { createRequire } from 'node:module';
import { dirname } from 'node:path';

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
 * dockerode, without loading what serves only image builds from a directory, which Outpost never asks of it:
 * `lib/session.js` (BuildKit sessions: @grpc/grpc-js and protobufjs, ~130 ms of CPU) and `tar-fs` (packing a build
 * context, ~15-20 ms with its own tar-stream). Stand-ins take their place in the require cache and load the real
 * module the first time it is used. dockerode is loaded by every command that reaches an engine.
 */
export function dockerodeModule<T>(): T {
  return (dockerodeLoaded ??= loadDockerode()) as T;
}

let dockerodeLoaded: unknown;

type Cache = Record<string, unknown>;

/** Puts a stand-in for `request` (as resolved from `from`) in the require cache, unless the real one is loaded. */
function standIn(cache: Cache, request: string, from: string | undefined, make: (real: () => Record<string, unknown>) => unknown): void {
  let path: string;
  try {
    path = from ? load.resolve(request, { paths: [from] }) : load.resolve(request);
  } catch {
    return; // another layout: loaded whole
  }
  if (cache[path]) return;
  let real: Record<string, unknown> | undefined;
  const loadReal = (): Record<string, unknown> => {
    if (!real) {
      delete cache[path];
      real = load(path) as Record<string, unknown>;
    }
    return real;
  };
  cache[path] = { id: path, filename: path, loaded: true, exports: make(loadReal), children: [], paths: [] };
}

function loadDockerode(): unknown {
  const cache = load.cache as unknown as Cache | undefined;
  if (cache) {
    standIn(cache, 'dockerode/lib/session.js', undefined, (real) => (...args: unknown[]): unknown => (real() as unknown as (...a: unknown[]) => unknown)(...args));
    let lib: string | undefined;
    try {
      lib = dirname(load.resolve('dockerode/lib/util.js'));
    } catch {
      lib = undefined;
    }
    // dockerode's util.js uses tar.pack only (buildImage from a directory).
    if (lib) standIn(cache, 'tar-fs', lib, (real) => ({ get pack() { return real().pack; }, get extract() { return real().extract; } }));
  }
  return load('dockerode');
}
