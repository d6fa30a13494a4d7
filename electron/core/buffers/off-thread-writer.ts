import { Worker } from 'node:worker_threads';
import { OutpostError } from '../../../shared/errors';
import { writeError } from './segment-store';

/**
 * The worker's program, plain CommonJS evaluated as a string: a separate .ts worker file would need its own loader
 * under tsx/vitest and its own bundle entry in the Electron build, and this must run the same in all of them.
 *
 * Messages in: { buf: ArrayBuffer (transferred), ops: [kind, id, start, end, path?][] } applied in order —
 * 'o' open `path` (O_EXCL), 'd' hash + write buf[start, end), 'e' end: digest, fsync, close and answer,
 * 'a' abort: close and unlink, 'x' shut down (unlink every file not ended). Messages out: { consumed } after each message, { id, sha256, bytes } or
 * { id, code, message } per ended file.
 */
const WORKER_SOURCE = String.raw`
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const files = new Map();
function drop(f) {
  if (f.fd !== null) { try { fs.closeSync(f.fd); } catch {} f.fd = null; }
  try { fs.unlinkSync(f.path); } catch {}
}
parentPort.on('message', (msg) => {
  const buf = msg.buf ? Buffer.from(msg.buf) : null;
  for (const [kind, id, start, end, path] of msg.ops) {
    if (kind === 'o') {
      const f = { path, fd: null, hash: createHash('sha256'), bytes: 0, error: null };
      files.set(id, f);
      try { f.fd = fs.openSync(path, 'wx', 0o600); } catch (e) { f.error = e; }
    } else if (kind === 'd') {
      const f = files.get(id);
      if (!f || f.error) continue;
      try {
        f.hash.update(buf.subarray(start, end));
        let off = start;
        while (off < end) off += fs.writeSync(f.fd, buf, off, end - off);
        f.bytes += end - start;
      } catch (e) { f.error = e; drop(f); }
    } else if (kind === 'e') {
      const f = files.get(id);
      files.delete(id);
      if (!f) continue;
      const fail = (e) => { drop(f); parentPort.postMessage({ id, code: e.code || '', message: String(e.message || e) }); };
      if (f.error) { fail(f.error); continue; }
      const sha256 = f.hash.digest('hex');
      fs.fsync(f.fd, (err) => {
        if (err) return fail(err);
        fs.close(f.fd, (err2) => {
          f.fd = null;
          if (err2) return fail(err2);
          parentPort.postMessage({ id, sha256, bytes: f.bytes });
        });
      });
    } else if (kind === 'a') {
      const f = files.get(id);
      files.delete(id);
      if (f) drop(f);
    } else if (kind === 'x') {
      for (const f of files.values()) drop(f);
      files.clear();
      parentPort.postMessage({ closed: true });
      return;
    }
  }
  // The staging buffer goes back to be reused: fresh 1 MiB buffers cost page faults on both threads.
  if (msg.buf) parentPort.postMessage({ consumed: msg.bytes, buf: msg.buf }, [msg.buf]);
  else parentPort.postMessage({ consumed: msg.bytes });
});
`;

type Op = [kind: 'o' | 'd' | 'e' | 'a' | 'x', id: number, start: number, end: number, path?: string];
type Answer = { consumed: number; buf?: ArrayBuffer } | { closed: true } | { id: number; sha256: string; bytes: number } | { id: number; code: string; message: string };

const STAGING_BYTES = 1024 * 1024;
const FLUSH_DELAY_MS = 2;
const SPARE_BUFFERS = 48;

/**
 * Receives many files at once on a worker thread: the main thread only copies incoming chunks into a 1 MiB staging
 * buffer and hands it over (transferred, not cloned); hashing, writing, fsync and close happen off the thread that
 * decrypts the SSH stream. `end()` resolves once the file is durable on disk (fsynced and closed).
 */
export class OffThreadWriter {
  private readonly worker: Worker;
  private staging: Buffer = Buffer.allocUnsafeSlow(STAGING_BYTES);
  private readonly spare: Buffer[] = [];
  private used = 0;
  private ops: Op[] = [];
  private nextId = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly ended = new Map<number, { resolve(v: { sha256: string; bytes: number }): void; reject(e: Error): void }>();
  private drainWaiters: Array<() => void> = [];
  private dead: Error | null = null;
  private onClosed: (() => void) | null = null;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (m: Answer) => this.answer(m));
    this.worker.on('error', (err) => this.die(new OutpostError('internal', `segment writer thread failed: ${err.message}`)));
    this.worker.on('exit', () => this.die(new OutpostError('internal', 'segment writer thread exited')));
  }

  /** Bytes handed to the worker and not yet written by it: the caller pauses its source above a limit. */
  get pendingBytes(): number {
    return this.inFlight + this.used;
  }

  open(path: string): number {
    const id = ++this.nextId;
    this.ops.push(['o', id, 0, 0, path]);
    this.schedule();
    return id;
  }

  write(id: number, chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.used === this.staging.length) this.flush();
      const n = chunk.copy(this.staging, this.used, pos);
      const last = this.ops[this.ops.length - 1];
      // Consecutive chunks of one file become one range: one hash update and one write(2) on the worker.
      if (last && last[0] === 'd' && last[1] === id && last[3] === this.used) last[3] += n;
      else this.ops.push(['d', id, this.used, this.used + n]);
      this.used += n;
      pos += n;
    }
    this.schedule();
  }

  /** Resolves with the file's sha256 and length once it is fsynced and closed; rejects with a mapped write error. */
  end(id: number): Promise<{ sha256: string; bytes: number }> {
    if (this.dead) return Promise.reject(this.dead);
    const done = new Promise<{ sha256: string; bytes: number }>((resolve, reject) => this.ended.set(id, { resolve, reject }));
    this.ops.push(['e', id, 0, 0]);
    this.schedule();
    return done;
  }

  /** Closes and unlinks a file that will not be finished. */
  abort(id: number): void {
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
    if (!this.ops.length || this.dead) return;
    const buf = this.used ? this.staging.buffer : null;
    const msg = { buf, ops: this.ops, bytes: this.used };
    this.inFlight += this.used;
    this.worker.postMessage(msg, buf ? [buf as ArrayBuffer] : []);
    if (buf) this.staging = this.spare.pop() ?? Buffer.allocUnsafeSlow(STAGING_BYTES);
    this.used = 0;
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

  private schedule(): void {
    if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  private answer(m: Answer): void {
    if ('closed' in m) return this.onClosed?.();
    if ('consumed' in m) {
      this.inFlight -= m.consumed;
      if (m.buf && this.spare.length < SPARE_BUFFERS) this.spare.push(Buffer.from(m.buf));
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
