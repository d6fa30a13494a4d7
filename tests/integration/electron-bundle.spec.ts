import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
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
    // The segment writer's thread is its own bundled entry, started from beside main.cjs.
    expect(main).toContain('WORKER_MODULE = "segment-writer-worker"');
  }, 60_000);

  it('the bundled segment writer thread hashes and writes a file durably', async () => {
    const worker = join(root, 'dist-electron', 'segment-writer-worker.cjs');
    if (!existsSync(worker)) spawnSync(process.execPath, [join(root, 'scripts', 'build-electron.mjs')], { cwd: root });
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const ring = Buffer.from(memory.buffer);
    const body = Buffer.from('hello from the bundled writer\n');
    body.copy(ring, 0);
    const dir = mkdtempSync(join(tmpdir(), 'outpost-writer-'));
    const thread = new Worker(worker, { workerData: { outpostSegmentWriter: true, memory } });
    const answers: unknown[] = [];
    const ended = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => {
      thread.on('message', (m: { sha256?: string; bytes?: number; message?: string }) => {
        answers.push(m);
        if (m.sha256) resolve(m as { sha256: string; bytes: number });
        if (m.message) reject(new Error(m.message));
      });
      thread.on('error', reject);
    });
    thread.postMessage({ ops: [['o', 1, 0, 0, join(dir, 'seg')], ['h', 1, 0, body.length], ['w', 1, 0, 4096], ['e', 1, body.length, 0]], release: 4096 });
    const done = await ended;
    await thread.terminate();
    expect(done).toEqual({ id: 1, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length });
    expect(readFileSync(join(dir, 'seg'))).toEqual(body);
  }, 60_000);
});
