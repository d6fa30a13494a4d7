import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OutpostError } from '../../../shared/errors';
import { writeError } from './segment-store';
import type * as Esbuild from 'esbuild';
import type { CommitFile, CommitJob, WriterAnswer, WriterData, WriterOp } from './segment-writer-worker';

/** Set by the Electron bundle (scripts/build-electron.mjs), which emits the worker beside main.cjs. */
declare const __OUTPOST_BUNDLE__: string | undefined;
/** Set by the CLI bundle (scripts/build-cli.mjs): the checkout's root, relative to the bundle's chunks. */
declare const __OUTPOST_ROOT_FROM_BUNDLE__: string | undefined;
/** Set by the CLI bundle: the writer thread's own bundled entry (content-hashed), beside the CLI's chunks. */
declare const __OUTPOST_WRITER_ENTRY__: string | undefined;

const WORKER_MODULE = 'segment-writer-worker';

/**
 * Starts the writer thread from its typed module: in the Electron and CLI bundles its own entry, bundled at build
 * time beside this code; only from the sources (vitest, tsx scripts) the .ts file compiled once with esbuild (what
 * tsx itself uses) and evaluated: a worker does not inherit its parent's loader hooks, and registering tsx inside the
 * thread cost ~1 s per process.
 */
export function startWriterThread(workerData: WriterData): Worker {
  if (typeof __OUTPOST_BUNDLE__ === 'string') return new Worker(join(__dirname, `${WORKER_MODULE}.cjs`), { workerData });
  if (typeof __OUTPOST_WRITER_ENTRY__ === 'string') return new Worker(new URL(`./${__OUTPOST_WRITER_ENTRY__}`, import.meta.url), { workerData });
  return new Worker(compiledFromSources(), { eval: true, workerData });
}

let compiled: string | undefined;

function compiledFromSources(): string {
  try {
    const require = createRequire(import.meta.url);
    const esbuild = require('esbuild') as typeof Esbuild;
    const here = typeof __OUTPOST_ROOT_FROM_BUNDLE__ === 'string' ? `${__OUTPOST_ROOT_FROM_BUNDLE__}electron/core/buffers/` : './';
    const source = readFileSync(fileURLToPath(new URL(`${here}${WORKER_MODULE}.ts`, import.meta.url)), 'utf8');
    compiled ??= esbuild.transformSync(source, { loader: 'ts', format: 'cjs', target: 'node20', sourcefile: `${WORKER_MODULE}.ts` }).code;
    return compiled;
  } catch (err) {
    throw new OutpostError('internal', `cannot start the segment writer from sources (is esbuild installed?): ${(err as Error).message}`);
  }
}

type Op = WriterOp;
type Answer = WriterAnswer;

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
  private readonly commits = new Map<number, { resolve(): void; reject(e: Error): void }>();
  private nextCommit = 0;
  private drainWaiters: Array<() => void> = [];
  private dead: Error | null = null;
  private onClosed: (() => void) | null = null;

  constructor() {
    const pages = RING_BYTES / WASM_PAGE;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.ring = Buffer.from(memory.buffer);
    this.worker = startWriterThread({ outpostSegmentWriter: true, memory });
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

  /**
   * Runs a group commit (commitFiles) on the worker's own SQLite connection: the files must be ended (durable)
   * already. Resolves once the index committed; rejects with the failure's code (mapped by the caller).
   */
  commit(dbFile: string, segmentsDir: string, files: CommitFile[]): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    const job: CommitJob = { commit: ++this.nextCommit, dbFile, segmentsDir, files };
    const done = new Promise<void>((resolve, reject) => this.commits.set(job.commit, { resolve, reject }));
    this.worker.postMessage(job);
    return done;
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
    if ('committed' in m || 'commitFailed' in m) {
      const seq = 'committed' in m ? m.committed : m.commitFailed;
      const waiter = this.commits.get(seq);
      this.commits.delete(seq);
      if ('committed' in m) waiter?.resolve();
      else waiter?.reject(Object.assign(new Error(m.message), { code: m.code }));
      return;
    }
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
    for (const w of this.commits.values()) w.reject(err);
    this.commits.clear();
    for (const w of this.drainWaiters) w();
    this.drainWaiters = [];
    this.onClosed?.();
  }
}
