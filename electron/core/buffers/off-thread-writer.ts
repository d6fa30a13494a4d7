import { Worker } from 'node:worker_threads';
import { OutpostError } from '../../../shared/errors';
import { writeError } from './segment-store';

/**
 * The worker's program, plain CommonJS evaluated as a string: a separate .ts worker file would need its own loader
 * under tsx/vitest and its own bundle entry in the Electron build, and this must run the same in all of them.
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
 */
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const { O_WRONLY, O_CREAT, O_EXCL, O_DIRECT } = fs.constants;
const ring = Buffer.from(workerData.memory.buffer);
const files = new Map();
// Ring ranges go back to the main thread in message order, each once every write reading it has completed.
let released = Promise.resolve();
const settle = (ps) => Promise.all(ps.map((p) => p.catch(() => undefined)));
async function open(path) {
  if (O_DIRECT) {
    try { return { handle: await fsp.open(path, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0o600), direct: true }; }
    catch (e) { if (e.code !== 'EINVAL') throw e; }
  }
  return { handle: await fsp.open(path, 'wx', 0o600), direct: false };
}
async function write(f, start, end, pos) {
  await f.opened;
  if (f.error) return;
  let off = start;
  while (off < end) {
    try {
      off += (await f.handle.write(ring, off, end - off, pos + (off - start))).bytesWritten;
    } catch (e) {
      if (e.code !== 'EINVAL' || !f.direct) throw e;
      // A file system that took O_DIRECT at open but not this write: reopen once, through the page cache.
      f.fallback ??= (async () => { await f.handle.close(); f.handle = await fsp.open(f.path, 'r+'); f.direct = false; })();
      await f.fallback;
    }
  }
}
async function drop(f) {
  await settle([f.opened, ...f.writes]);
  if (f.handle) { try { await f.handle.close(); } catch {} f.handle = null; }
  try { await fsp.unlink(f.path); } catch {}
}
async function finish(f, size) {
  await settle([f.opened, ...f.writes]);
  if (f.error) throw f.error;
  if (f.bytes !== size) throw new Error('segment writer: ' + f.bytes + ' bytes hashed, ' + size + ' expected');
  if (f.pos !== size) await f.handle.truncate(size);
  await f.handle.sync();
  const handle = f.handle;
  f.handle = null;
  await handle.close();
}
parentPort.on('message', (msg) => {
  const writes = [];
  for (const [kind, id, a, b, path] of msg.ops) {
    if (kind === 'o') {
      const f = { path, handle: null, direct: false, pos: 0, hash: createHash('sha256'), bytes: 0, error: null, writes: [], opened: null, fallback: null };
      f.opened = open(path).then((r) => { Object.assign(f, r); }, (e) => { f.error = e; });
      files.set(id, f);
    } else if (kind === 'h') {
      const f = files.get(id);
      if (f && !f.error) { f.hash.update(ring.subarray(a, b)); f.bytes += b - a; }
    } else if (kind === 'w') {
      const f = files.get(id);
      if (!f) continue;
      const w = write(f, a, b, f.pos).catch((e) => { f.error ??= e; });
      f.pos += b - a;
      f.writes.push(w);
      writes.push(w);
    } else if (kind === 'e') {
      const f = files.get(id);
      files.delete(id);
      if (!f) continue;
      const sha256 = f.hash.digest('hex');
      finish(f, a).then(
        () => parentPort.postMessage({ id, sha256, bytes: f.bytes }),
        (e) => drop(f).then(() => parentPort.postMessage({ id, code: e.code || '', message: String(e.message || e) })),
      );
    } else if (kind === 'a') {
      const f = files.get(id);
      files.delete(id);
      if (f) void drop(f);
    } else if (kind === 'x') {
      const all = [...files.values()];
      files.clear();
      void released.then(() => settle(all.map(drop))).then(() => parentPort.postMessage({ closed: true }));
      return;
    }
  }
  const release = msg.release;
  released = released.then(() => settle(writes)).then(() => parentPort.postMessage({ release }));
});
`;

type Op = [kind: 'o' | 'h' | 'w' | 'e' | 'a' | 'x', id: number, a: number, b: number, path?: string];
type Answer = { release: number } | { closed: true } | { id: number; sha256: string; bytes: number } | { id: number; code: string; message: string };

/** O_DIRECT wants block-aligned memory, file offsets and lengths; 4 KiB covers the usual logical block sizes. */
const BLOCK = 4096;
const WASM_PAGE = 64 * 1024;
/**
 * The spool flush's back-pressure mark (16 MiB) plus room for the chunk that crossed it (an SSH channel delivers at
 * most its 2 MiB window) and block padding. Per device being flushed (4 at once by default).
 */
const RING_BYTES = 24 * 1024 * 1024;
const FLUSH_DELAY_MS = 2;

const alignUp = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
const alignDown = (n: number) => Math.floor(n / BLOCK) * BLOCK;

/**
 * Receives many files at once on a worker thread. The main thread only copies incoming chunks into a ring shared
 * with the worker (each file starting on a block boundary); the worker hashes, writes, fsyncs and closes. Writes
 * bypass the page cache (O_DIRECT, whole blocks, the last one padded and the file truncated to its length) where
 * the file system allows: segments are written once and read rarely, so copying them through the cache only costs
 * CPU — on a 2-core laptop the same CPU that decrypts the SSH stream — and evicts the technician's own cache.
 * `end()` resolves once the file is durable on disk (fsynced and closed).
 *
 * Ring positions are virtual (ever increasing); a byte at position p lives at p % RING_BYTES. The worker releases
 * a prefix of the ring after each message: everything before the current file's first byte not yet written.
 */
export class OffThreadWriter {
  private readonly worker: Worker;
  private readonly ring: Buffer;
  /** Next free position, and the first position the worker may still read. */
  private head = 0;
  private tail = 0;
  private ops: Op[] = [];
  private nextId = 0;
  /** The open file, one at a time (a transfer is sequential); its bytes from `writeFrom` are not written yet. */
  private current: { id: number; writeFrom: number; bytes: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly ended = new Map<number, { resolve(v: { sha256: string; bytes: number }): void; reject(e: Error): void }>();
  private drainWaiters: Array<() => void> = [];
  private dead: Error | null = null;
  private onClosed: (() => void) | null = null;

  constructor() {
    const pages = RING_BYTES / WASM_PAGE;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.ring = Buffer.from(memory.buffer);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory } });
    this.worker.unref();
    this.worker.on('message', (m: Answer) => this.answer(m));
    this.worker.on('error', (err) => this.die(new OutpostError('internal', `segment writer thread failed: ${err.message}`)));
    this.worker.on('exit', () => this.die(new OutpostError('internal', 'segment writer thread exited')));
  }

  /** Ring bytes handed to the worker or queued and not yet released: the caller pauses its source above a limit. */
  get pendingBytes(): number {
    return this.head - this.tail;
  }

  /** Opens the next file; one still open is left unfinished (unlinked at close()) and takes no more writes. */
  open(path: string): number {
    const id = ++this.nextId;
    this.head = alignUp(this.head);
    this.current = { id, writeFrom: this.head, bytes: 0 };
    this.ops.push(['o', id, 0, 0, path]);
    this.schedule();
    return id;
  }

  write(id: number, chunk: Buffer): void {
    const file = this.fileFor(id);
    if (this.head + chunk.length - this.tail > RING_BYTES) {
      throw new OutpostError('internal', `segment writer: ${chunk.length} more bytes would overrun its ${RING_BYTES / 1024 / 1024} MiB ring (the caller must wait for drained())`);
    }
    let pos = 0;
    while (pos < chunk.length) {
      const at = this.head % RING_BYTES;
      const n = Math.min(chunk.length - pos, RING_BYTES - at);
      chunk.copy(this.ring, at, pos, pos + n);
      const last = this.ops[this.ops.length - 1];
      // Consecutive chunks of one file become one range: one hash update on the worker.
      if (last && last[0] === 'h' && last[1] === id && last[3] === at) last[3] += n;
      else this.ops.push(['h', id, at, at + n]);
      this.head += n;
      file.bytes += n;
      pos += n;
      // The ring's end is block-aligned: what lies before it is whole blocks, written now.
      if (this.head % RING_BYTES === 0) this.writeOut(file, this.head);
    }
    this.schedule();
  }

  /** Resolves with the file's sha256 and length once it is fsynced and closed; rejects with a mapped write error. */
  end(id: number): Promise<{ sha256: string; bytes: number }> {
    if (this.dead) return Promise.reject(this.dead);
    const file = this.fileFor(id);
    const done = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => this.ended.set(id, { resolve, reject }));
    // The last block goes out padded with whatever the ring holds there; the worker truncates the file after it.
    this.head = alignUp(this.head);
    this.writeOut(file, this.head);
    this.ops.push(['e', id, file.bytes, 0]);
    this.current = null;
    this.schedule();
    return done;
  }

  /** Closes and unlinks a file that will not be finished. */
  abort(id: number): void {
    if (this.current?.id === id) this.current = null;
    this.ops.push(['a', id, 0, 0]);
    this.schedule();
  }

  /** Waits until at most `limit` bytes are queued for the worker. */
  async drained(limit: number): Promise<void> {
    while (this.pendingBytes > limit && !this.dead) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    if (this.dead) throw this.dead;
  }

  /** Hands everything queued to the worker now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.dead) return;
    // Whole blocks of the open file go out now; its unaligned tail waits in the ring for more bytes (or its end).
    if (this.current) this.writeOut(this.current, this.current.writeFrom + alignDown(this.head - this.current.writeFrom));
    if (!this.ops.length) return;
    const release = this.current ? this.current.writeFrom : this.head;
    this.worker.postMessage({ ops: this.ops, release });
    this.ops = [];
  }

  /** Stops the worker once it has unlinked every file that was opened and never ended (a failed transfer's). */
  async close(): Promise<void> {
    if (!this.dead) {
      this.ops.push(['x', 0, 0, 0]);
      const closed = new Promise<void>((resolve) => (this.onClosed = resolve));
      this.flush();
      await closed;
    }
    this.die(new OutpostError('internal', 'segment writer closed'));
    await this.worker.terminate();
  }

  private fileFor(id: number): { id: number; writeFrom: number; bytes: number } {
    if (this.current?.id !== id) throw new OutpostError('internal', `segment writer: file ${id} is not the open one`);
    return this.current;
  }

  /** Queues the write of the file's bytes in [writeFrom, to): block-aligned, split where the ring wraps. */
  private writeOut(file: { id: number; writeFrom: number }, to: number): void {
    while (file.writeFrom < to) {
      const at = file.writeFrom % RING_BYTES;
      const n = Math.min(to - file.writeFrom, RING_BYTES - at);
      this.ops.push(['w', file.id, at, at + n]);
      file.writeFrom += n;
    }
  }

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  private answer(m: Answer): void {
    if ('closed' in m) return this.onClosed?.();
    if ('release' in m) {
      this.tail = Math.max(this.tail, m.release);
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const waiter = this.ended.get(m.id);
    this.ended.delete(m.id);
    if (!waiter) return;
    if ('sha256' in m) waiter.resolve({ sha256: m.sha256, bytes: m.bytes });
    else waiter.reject(writeError(Object.assign(new Error(m.message), { code: m.code }), 'writing a segment'));
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const w of this.ended.values()) w.reject(err);
    this.ended.clear();
    for (const w of this.drainWaiters) w();
    this.drainWaiters = [];
    this.onClosed?.();
  }
}
