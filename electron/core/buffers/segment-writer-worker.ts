/**
 * The segment writer's thread (see OffThreadWriter in off-thread-writer.ts, which starts it).
 *
 * It shares the ring (a shared WebAssembly.Memory: page-aligned, which O_DIRECT needs) with the main thread.
 * Messages in: { ops: [kind, id, a, b, path?][], release } applied in order —
 * 'o' open `path` (O_EXCL, O_DIRECT where the file system takes it), 'h' hash ring[a, b), 'w' write ring[a, b) at
 * the file's next position (block-aligned), 'e' end: truncate to `a` bytes, fsync, close and answer,
 * 'a' abort: close and unlink, 'x' shut down (unlink every file not ended).
 * Hashing runs here, in order; opens, positional writes, fsyncs and closes run on libuv's thread pool, several at
 * once (creating a file costs ext4 an inode search; a write waits for the disk): nothing waits for them but the
 * file's own end and the release of the ring bytes they read.
 * Messages out: { release } per message once its writes are done, { id, sha256, bytes } or { id, code, message }
 * per ended file.
 *
 * Imports nothing of Outpost's: the Electron build bundles it as its own entry (dist-electron/segment-writer-worker.cjs).
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open as fsOpen, unlink, type FileHandle } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';

export type WriterOp = [kind: 'o' | 'h' | 'w' | 'e' | 'a' | 'x', id: number, a: number, b: number, path?: string];
export interface WriterMessage {
  ops: WriterOp[];
  release: number;
}
export type WriterAnswer = { release: number } | { closed: true } | { id: number; sha256: string; bytes: number } | { id: number; code: string; message: string };
export interface WriterData {
  /** Marks the thread as the segment writer (an importing test runner's own worker has other data). */
  outpostSegmentWriter: true;
  memory: WebAssembly.Memory;
}

interface OpenFile {
  path: string;
  handle: FileHandle | null;
  direct: boolean;
  /** Next file position a queued write goes to. */
  pos: number;
  hash: Hash;
  bytes: number;
  error: (Error & { code?: string }) | null;
  writes: Array<Promise<void>>;
  opened: Promise<void>;
  fallback: Promise<void> | null;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_DIRECT } = constants;

/** Waits for every promise, ignoring failures (each records its own error on the file). */
const settle = (ps: Array<Promise<unknown>>) => Promise.all(ps.map((p) => p.catch(() => undefined)));

async function openFile(path: string): Promise<{ handle: FileHandle; direct: boolean }> {
  if (O_DIRECT) {
    try {
      return { handle: await fsOpen(path, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0o600), direct: true };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EINVAL') throw e;
    }
  }
  return { handle: await fsOpen(path, 'wx', 0o600), direct: false };
}

async function writeRange(ring: Buffer, f: OpenFile, start: number, end: number, pos: number): Promise<void> {
  await f.opened;
  if (f.error) return;
  let off = start;
  while (off < end) {
    const handle = f.handle as FileHandle;
    try {
      off += (await handle.write(ring, off, end - off, pos + (off - start))).bytesWritten;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EINVAL' || !f.direct) throw e;
      // A file system that took O_DIRECT at open but not this write: reopen once, through the page cache.
      f.fallback ??= (async () => {
        await handle.close();
        f.handle = await fsOpen(f.path, 'r+');
        f.direct = false;
      })();
      await f.fallback;
    }
  }
}

async function drop(f: OpenFile): Promise<void> {
  await settle([f.opened, ...f.writes]);
  if (f.handle) {
    await f.handle.close().catch(() => undefined);
    f.handle = null;
  }
  await unlink(f.path).catch(() => undefined);
}

async function finish(f: OpenFile, size: number): Promise<void> {
  await settle([f.opened, ...f.writes]);
  if (f.error) throw f.error;
  if (f.bytes !== size) throw new Error(`segment writer: ${f.bytes} bytes hashed, ${size} expected`);
  const handle = f.handle as FileHandle;
  if (f.pos !== size) await handle.truncate(size);
  await handle.sync();
  f.handle = null;
  await handle.close();
}

/** Applies the main thread's messages to the files; `post` answers it. Exported for the unit spec. */
export function createWriterThread(ring: Buffer, post: (answer: WriterAnswer) => void): (msg: WriterMessage) => void {
  const files = new Map<number, OpenFile>();
  // Ring ranges go back to the main thread in message order, each once every write reading it has completed.
  let released: Promise<unknown> = Promise.resolve();

  return (msg) => {
    const writes: Array<Promise<void>> = [];
    for (const [kind, id, a, b, path] of msg.ops) {
      if (kind === 'o') {
        const f: OpenFile = { path: path ?? '', handle: null, direct: false, pos: 0, hash: createHash('sha256'), bytes: 0, error: null, writes: [], opened: Promise.resolve(), fallback: null };
        f.opened = openFile(f.path).then(
          (r) => {
            f.handle = r.handle;
            f.direct = r.direct;
          },
          (e: Error) => {
            f.error = e;
          },
        );
        files.set(id, f);
      } else if (kind === 'h') {
        const f = files.get(id);
        if (f && !f.error) {
          f.hash.update(ring.subarray(a, b));
          f.bytes += b - a;
        }
      } else if (kind === 'w') {
        const f = files.get(id);
        if (!f) continue;
        const w = writeRange(ring, f, a, b, f.pos).catch((e: Error) => {
          f.error ??= e;
        });
        f.pos += b - a;
        f.writes.push(w);
        writes.push(w);
      } else if (kind === 'e') {
        const f = files.get(id);
        files.delete(id);
        if (!f) continue;
        const sha256 = f.hash.digest('hex');
        finish(f, a).then(
          () => post({ id, sha256, bytes: f.bytes }),
          (e: Error & { code?: string }) => drop(f).then(() => post({ id, code: e.code ?? '', message: String(e.message || e) })),
        );
      } else if (kind === 'a') {
        const f = files.get(id);
        files.delete(id);
        if (f) void drop(f);
      } else {
        const all = [...files.values()];
        files.clear();
        void released.then(() => settle(all.map(drop))).then(() => post({ closed: true }));
        return;
      }
    }
    const release = msg.release;
    released = released.then(() => settle(writes)).then(() => post({ release }));
  };
}

const data = workerData as Partial<WriterData> | null;
if (parentPort && data?.outpostSegmentWriter === true && data.memory) {
  const port = parentPort;
  const { memory } = data;
  const apply = createWriterThread(Buffer.from(memory.buffer), (answer) => port.postMessage(answer));
  port.on('message', (msg: WriterMessage) => apply(msg));
}
