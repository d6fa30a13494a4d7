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
 * The group commit runs here too ({ commit } in, { committed } or { commitFailed } out; see commitFiles), on a
 * SQLite connection of this thread's own: the main thread never waits for renames, the directory's fsync or the
 * index's, so it keeps reading the SSH channel meanwhile.
 *
 * Imports nothing of Outpost's: the Electron build bundles it as its own entry (dist-electron/segment-writer-worker.cjs).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, existsSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { open as fsOpen, unlink, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

export type WriterOp = [kind: 'o' | 'h' | 'w' | 'e' | 'a' | 'x', id: number, a: number, b: number, path?: string];
export interface WriterMessage {
  ops: WriterOp[];
  release: number;
}
export type WriterAnswer =
  | { release: number }
  | { closed: true }
  | { id: number; sha256: string; bytes: number }
  | { id: number; code: string; message: string }
  | { committed: number }
  | { commitFailed: number; code: string; message: string };

/**
 * One index row of a stored segment: defined here, where the writer thread (which imports nothing of Outpost's)
 * commits it, and re-exported by segment-store.ts for the rest of the core.
 */
export interface NewSegment {
  deviceId: string;
  stream: string;
  segment: string;
  sha256: string;
  bytes: number;
  kind: 'spool' | 'outbox';
  records: number | null;
  sourceTime: string | null;
}
export interface CommitFile {
  tmpPath: string;
  segment: NewSegment;
}
/** A group commit for this thread: `files` are fsynced temp files (ended here before the main thread asks). */
export interface CommitJob {
  commit: number;
  dbFile: string;
  segmentsDir: string;
  files: CommitFile[];
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const inserts = new WeakMap<BetterSqlite3.Database, { row: BetterSqlite3.Statement; mark: BetterSqlite3.Statement }>();

/**
 * THE group commit (SegmentStore.commit on the main thread's connection, or this thread's for a spool flush): inside
 * ONE write transaction (BEGIN IMMEDIATE), each fsynced temp file is renamed to its blob name (or dropped when that
 * blob exists), the directory is fsynced once, the rows are inserted, and the commit (the connection runs
 * synchronous=FULL) is the durable promise that lets the device delete its copies. Holding the write lock across the
 * renames is what makes SegmentStore.sweepOrphans safe: no connection, in this process or another, can be between
 * "renamed" and "indexed" while a sweep runs.
 */
export function commitFiles(db: BetterSqlite3.Database, segmentsDir: string, files: readonly CommitFile[], marks: ReadonlyArray<[string, string]> = []): void {
  if (!files.length && !marks.length) return;
  let stmts = inserts.get(db);
  if (!stmts) {
    stmts = {
      row: db.prepare(`INSERT OR IGNORE INTO buffer_segments (device_id, stream, segment, sha256, bytes, kind, records, source_time, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      mark: db.prepare(`INSERT INTO buffer_settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    };
    inserts.set(db, stmts);
  }
  const { row, mark } = stmts;
  db.transaction(() => {
    for (const f of files) {
      const target = join(segmentsDir, f.segment.sha256);
      if (existsSync(target)) unlinkSync(f.tmpPath);
      else renameSync(f.tmpPath, target);
    }
    if (files.length) syncDir(segmentsDir);
    const now = new Date().toISOString();
    for (const s of files.map((f) => f.segment)) row.run(s.deviceId, s.stream, s.segment, s.sha256, s.bytes, s.kind, s.records, s.sourceTime, now);
    for (const [key, value] of marks) mark.run(key, value);
  }).immediate();
}

/** better-sqlite3, loaded at this thread's first commit (a CommonJS native module; this file may run as ESM). */
function openIndex(dbFile: string): BetterSqlite3.Database {
  // ESM (the CLI's bundle of this thread) has import.meta.url; CommonJS (the Electron bundle, the sources compiled
  // for eval) has require. Not `typeof require`: an ESM bundle defines a stand-in that throws.
  const url = import.meta.url as string | undefined;
  const load: NodeJS.Require = url ? createRequire(url) : require;
  const Database = load('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  // The commit is the promise that lets the device delete its copy: it must survive a power cut, not just a crash.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  return db;
}

/** Runs commit jobs on this thread's own connection (one per index file, opened at its first job). */
export function createCommitter(post: (answer: WriterAnswer) => void): { run(job: CommitJob): void; close(): void } {
  const dbs = new Map<string, BetterSqlite3.Database>();
  return {
    run(job) {
      try {
        let db = dbs.get(job.dbFile);
        if (!db) {
          db = openIndex(job.dbFile);
          dbs.set(job.dbFile, db);
        }
        commitFiles(db, job.segmentsDir, job.files);
        post({ committed: job.commit });
      } catch (e) {
        const err = e as Error & { code?: string };
        post({ commitFailed: job.commit, code: err.code ?? '', message: String(err.message || err) });
      }
    },
    close() {
      for (const db of dbs.values()) db.close();
      dbs.clear();
    },
  };
}
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
  const post = (answer: WriterAnswer) => port.postMessage(answer);
  const apply = createWriterThread(Buffer.from(memory.buffer), post);
  const committer = createCommitter(post);
  port.on('message', (msg: WriterMessage | CommitJob) => {
    if ('commit' in msg) return committer.run(msg);
    // Shutting down: commits run synchronously, so none is between its renames and its COMMIT here.
    if (msg.ops.some((op) => op[0] === 'x')) committer.close();
    apply(msg);
  });
}
