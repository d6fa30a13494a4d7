import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { close, fsync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StoredSegment } from '../../../shared/contract/buffers';
import { OutpostError } from '../../../shared/errors';
import type { OffThreadWriter } from './off-thread-writer';
import { commitFiles, type NewSegment } from './segment-writer-worker';
import { pruneSegments, type PruneSelection } from './store-prune';

const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

export interface SegmentKey {
  deviceId: string;
  stream: string;
  segment: string;
}

/** One index row of a stored segment; defined beside the writer thread's commit, which takes it too. */
export type { NewSegment };

/** A row of `buffer_segments`, as SQLite returns it. */
export interface SegmentRow {
  id: number;
  device_id: string;
  stream: string;
  segment: string;
  sha256: string;
  bytes: number;
  kind: 'spool' | 'outbox';
  records: number | null;
  source_time: string | null;
  stored_at: string;
}

export function toStoredSegment(r: SegmentRow): StoredSegment {
  return { id: r.id, deviceId: r.device_id, stream: r.stream, segment: r.segment, sha256: r.sha256, bytes: r.bytes, kind: r.kind, records: r.records, sourceTime: r.source_time, storedAt: r.stored_at };
}

/** Maps a failed write to the error a technician acts on: a full disk keeps the device's data. */
export function writeError(err: unknown, what: string): OutpostError {
  const e = err as { code?: string; message?: string };
  if (err instanceof OutpostError) return err;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'SQLITE_FULL')
    return new OutpostError('disk-full', `the laptop's disk is full while ${what}; nothing was acknowledged, the device keeps its data`);
  return new OutpostError('internal', `${what}: ${e.message ?? String(err)}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/**
 * The laptop's store of flushed segments: content-addressed blob files under `$OUTPOST_HOME/buffers/segments`
 * plus an index in SQLite. It keeps its own connection with `synchronous=FULL`, because an index commit is the
 * promise that lets the device delete its copy: it must survive a power cut, not just a crash.
 */
export class SegmentStore {
  readonly root: string;
  readonly segmentsDir: string;
  readonly tmpDir: string;
  readonly quarantineDir: string;
  private readonly db: Database.Database;
  private tmpCounter = 0;
  private reserved = 0;
  private holdsStmt: Database.Statement | undefined;
  private heldSizesStmt: Database.Statement | undefined;
  private quotaStmt: Database.Statement | undefined;
  private usedStmt: Database.Statement | undefined;

  constructor(
    dataDir: string,
    readonly dbFile: string,
  ) {
    this.root = join(dataDir, 'buffers');
    this.segmentsDir = join(this.root, 'segments');
    this.tmpDir = join(this.root, 'tmp');
    this.quarantineDir = join(this.root, 'quarantine');
    for (const dir of [this.segmentsDir, this.tmpDir, this.quarantineDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.db = new Database(dbFile);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.removeAbandonedTmp();
  }

  close(): void {
    this.db.close();
  }

  /** Partial files of flushes that were killed: their process is gone, so nobody will finish them. */
  private removeAbandonedTmp(): void {
    for (const name of readdirSync(this.tmpDir)) {
      const pid = Number(name.split('.')[0]);
      if (!Number.isInteger(pid) || pid === process.pid || !pidAlive(pid)) {
        if (pid !== process.pid) unlinkSync(join(this.tmpDir, name));
      }
    }
  }

  blobPath(sha256: string): string {
    return join(this.segmentsDir, sha256);
  }

  quotaBytes(): number | null {
    this.quotaStmt ??= this.db.prepare(`SELECT value FROM buffer_settings WHERE key = 'quota_bytes'`);
    const row = this.quotaStmt.get() as { value: string } | undefined;
    return row ? Number(row.value) : null;
  }

  setQuota(bytes: number | null): void {
    if (bytes === null) this.db.prepare(`DELETE FROM buffer_settings WHERE key = 'quota_bytes'`).run();
    else this.db.prepare(`INSERT INTO buffer_settings(key, value) VALUES ('quota_bytes', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(String(bytes));
  }

  /** Bytes of the stored blobs (each content once): a running total kept by a trigger, not a scan per call. */
  usedBytes(): number {
    this.usedStmt ??= this.db.prepare(`SELECT blob_bytes FROM buffer_usage WHERE id = 1`).pluck();
    return (this.usedStmt.get() as number | undefined) ?? 0;
  }

  holds(key: SegmentKey, sha256: string): boolean {
    this.holdsStmt ??= this.db.prepare(`SELECT 1 FROM buffer_segments WHERE device_id = ? AND stream = ? AND segment = ? AND sha256 = ?`);
    return this.holdsStmt.get(key.deviceId, key.stream, key.segment, sha256) !== undefined;
  }

  /** Sizes the laptop already holds for a segment name (any content), to spot candidates for a cheap re-ack. */
  heldSizes(key: SegmentKey): number[] {
    this.heldSizesStmt ??= this.db.prepare(`SELECT bytes FROM buffer_segments WHERE device_id = ? AND stream = ? AND segment = ?`).pluck();
    return this.heldSizesStmt.all(key.deviceId, key.stream, key.segment) as number[];
  }

  /** Drops a received temp file that is not needed (the laptop already holds that content under that name). */
  discard(tmpPath: string): void {
    try {
      unlinkSync(tmpPath);
    } catch {
      // already gone
    }
  }

  /** A fresh private temp file name; files of dead processes are removed at start (removeAbandonedTmp). */
  tmpPath(): string {
    return join(this.tmpDir, `${process.pid}.${++this.tmpCounter}`);
  }

  /** Books room for a segment about to arrive; refuses up front when the quota cannot take it. Returns the release. */
  reserve(expectedBytes: number): () => void {
    const quota = this.quotaBytes();
    if (quota !== null && this.usedBytes() + this.reserved + expectedBytes > quota) {
      throw new OutpostError('disk-full', `the laptop store quota (${quota} bytes) is full; nothing more was acknowledged, the device keeps its data`, { quotaBytes: quota });
    }
    this.reserved += expectedBytes;
    let released = false;
    return () => {
      if (!released) this.reserved -= expectedBytes;
      released = true;
    };
  }

  /** Starts receiving one segment into a private temp file on this thread (small outbox pages). */
  beginWrite(expectedBytes: number): SegmentWriter {
    const release = this.reserve(expectedBytes);
    const path = this.tmpPath();
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      release();
      throw writeError(err, 'creating a segment file');
    }
    return new SegmentWriter(path, fd, release);
  }

  /**
   * Group commit of fsynced temp files (commitFiles): inside ONE write transaction (BEGIN IMMEDIATE), renames, one
   * directory fsync, the rows; the commit (synchronous=FULL) is the durable promise that lets the device delete its
   * copies. Holding the write lock across the renames is what makes sweepOrphans safe. On this thread: outbox pages.
   */
  commit(files: ReadonlyArray<{ tmpPath: string; segment: NewSegment }>, marks: ReadonlyArray<[string, string]> = []): void {
    try {
      commitFiles(this.db, this.segmentsDir, files, marks);
    } catch (err) {
      throw writeError(err, 'storing flushed segments');
    }
  }

  /**
   * The same group commit on the writer thread's own connection to this index (the spool flush's): the main thread
   * goes on reading the SSH channel while the renames, the directory's fsync and the index's fsync run there (they
   * blocked it ~20 ms per group, during which the device's window ran dry). Same lock, same order, same promise.
   */
  async commitOffThread(writer: OffThreadWriter, files: ReadonlyArray<{ tmpPath: string; segment: NewSegment }>): Promise<void> {
    if (!files.length) return;
    try {
      await writer.commit(this.dbFile, this.segmentsDir, files.map((f) => ({ tmpPath: f.tmpPath, segment: f.segment })));
    } catch (err) {
      throw writeError(err, 'storing flushed segments');
    }
  }

  /**
   * Removes blob files the index does not know: left by a process killed between a rename and its index commit.
   * Runs under the write lock (see commit), so a blob another process is placing right now is never taken.
   */
  sweepOrphans(): number {
    return this.db
      .transaction(() => {
        const known = new Set((this.db.prepare(`SELECT DISTINCT sha256 FROM buffer_segments`).pluck().all() as string[]));
        let removed = 0;
        for (const name of readdirSync(this.segmentsDir)) {
          if (known.has(name)) continue;
          unlinkSync(join(this.segmentsDir, name));
          removed++;
        }
        return removed;
      })
      .immediate();
  }

  quarantine(tmpPath: string, key: SegmentKey, actual: string, expected: string | null, reason: string): string {
    const path = join(this.quarantineDir, `${key.deviceId}.${key.stream}.${key.segment}.${actual.slice(0, 12)}`);
    renameSync(tmpPath, path);
    this.db
      .prepare(`INSERT OR IGNORE INTO buffer_quarantine (device_id, stream, segment, expected, actual, reason, path, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(key.deviceId, key.stream, key.segment, expected, actual, reason, path, new Date().toISOString());
    return path;
  }

  setting(key: string): string | null {
    const row = this.db.prepare(`SELECT value FROM buffer_settings WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  list(filter: { deviceId?: string; stream?: string; since?: string; until?: string; limit: number }): StoredSegment[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add('device_id = ?', filter.deviceId);
    add('stream = ?', filter.stream);
    add('COALESCE(source_time, stored_at) >= ?', filter.since);
    add('COALESCE(source_time, stored_at) < ?', filter.until);
    const sql = `SELECT * FROM buffer_segments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY device_id, stream, id LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filter.limit) as SegmentRow[]).map(toStoredSegment);
  }

  /** Deletes stored segments (see pruneSegments); a dry run only says what would go and what it would free. */
  prune(sel: PruneSelection): ReturnType<typeof pruneSegments> {
    try {
      return pruneSegments(this.db, (sha) => this.blobPath(sha), sel);
    } catch (err) {
      throw writeError(err, 'pruning the store');
    }
  }

  /** Exported segments have a copy elsewhere: a default prune may take them. */
  markExported(ids: readonly number[]): void {
    const mark = this.db.prepare(`UPDATE buffer_segments SET exported_at = ? WHERE id = ?`);
    const at = new Date().toISOString();
    this.db.transaction(() => {
      for (const id of ids) mark.run(at, id);
    })();
  }

  get(id: number): StoredSegment {
    const row = this.db.prepare(`SELECT * FROM buffer_segments WHERE id = ?`).get(id) as SegmentRow | undefined;
    if (!row) throw new OutpostError('not-found', `no stored segment with id ${id}`);
    return toStoredSegment(row);
  }
}

/** One segment being received: every chunk is hashed and written; finish() makes it durable. */
export class SegmentWriter {
  private readonly hash: Hash = createHash('sha256');
  private closed = false;
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly release: () => void,
  ) {}

  write(chunk: Buffer): void {
    this.hash.update(chunk);
    let off = 0;
    try {
      // Synchronous writes into the page cache beat a thread-pool round trip per 32 KiB chunk; fsync stays async.
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    } catch (err) {
      this.abort();
      throw writeError(err, 'writing a segment');
    }
    this.bytes += chunk.length;
  }

  /** fsyncs and closes the file (in the thread pool, overlapping the next segment's transfer). */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    const sha256 = this.hash.digest('hex');
    this.closed = true;
    try {
      await fsyncAsync(this.fd);
    } catch (err) {
      await closeAsync(this.fd).catch(() => undefined);
      this.unlink();
      throw writeError(err, 'syncing a segment to disk');
    } finally {
      this.release();
    }
    await closeAsync(this.fd);
    return { sha256, bytes: this.bytes };
  }

  abort(): void {
    if (!this.closed) {
      this.closed = true;
      this.release();
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
    }
    this.unlink();
  }

  private unlink(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // never created or already gone
    }
  }
}
