import { OutpostError } from '../../../shared/errors';
import type { DeviceLockInfo } from '../../../shared/contract/jobs';
import type { Db } from '../store/database';
import { currentProcess, holderAlive, type ProcessIdentity } from './process-identity';

interface LockRow {
  device_id: string;
  pid: number;
  process_start: string | null;
  process_kind: string;
  operation: string;
  job_id: string;
  since: string;
  hostname: string;
}

/** Core owns schema versions 1-9 (see store/migrations.ts). */
export const deviceLocksMigration = {
  version: 9,
  name: 'per-device operation locks shared by every process on $OUTPOST_HOME',
  up: `
    CREATE TABLE device_locks (
      device_id TEXT PRIMARY KEY,
      pid INTEGER NOT NULL,
      process_start TEXT,
      process_kind TEXT NOT NULL,
      operation TEXT NOT NULL,
      job_id TEXT NOT NULL,
      since TEXT NOT NULL,
      hostname TEXT NOT NULL
    );
  `,
};

/**
 * One operation that changes a device at a time (flush, rollout), across the app, browser mode and CLI processes
 * sharing the store. The lock is a row taken in a write transaction (BEGIN IMMEDIATE serialises the check and the
 * insert between processes). A holder that died — its pid gone, or reused by a process started at another time —
 * is taken over.
 */
export class DeviceLocks {
  private readonly self: ProcessIdentity;

  constructor(
    private readonly db: Db,
    private readonly processKind: string,
    self?: ProcessIdentity,
    private readonly alive: (holder: ProcessIdentity, self: ProcessIdentity) => boolean = holderAlive,
  ) {
    this.self = self ?? currentProcess();
  }

  /** Takes the device for `operation`, or fails at once with kind `busy` naming the holder. Returns the release. */
  acquire(deviceId: string, operation: string, jobId: string, deviceName = deviceId): () => void {
    this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT * FROM device_locks WHERE device_id = ?').get(deviceId) as LockRow | undefined;
        if (row && this.alive({ pid: row.pid, start: row.process_start, hostname: row.hostname }, this.self)) {
          const who = row.pid === this.self.pid && row.hostname === this.self.hostname ? 'this window' : `${row.process_kind} pid ${row.pid}${row.hostname !== this.self.hostname ? ` on ${row.hostname}` : ''}`;
          throw new OutpostError('busy', `${deviceName} is busy: ${row.operation} by ${who} since ${row.since}; wait for it or cancel it`, {
            deviceId,
            pid: row.pid,
            processKind: row.process_kind,
            operation: row.operation,
            since: row.since,
            hostname: row.hostname,
          });
        }
        this.db
          .prepare(
            `INSERT INTO device_locks (device_id, pid, process_start, process_kind, operation, job_id, since, hostname) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(device_id) DO UPDATE SET pid = excluded.pid, process_start = excluded.process_start, process_kind = excluded.process_kind,
               operation = excluded.operation, job_id = excluded.job_id, since = excluded.since, hostname = excluded.hostname`,
          )
          .run(deviceId, this.self.pid, this.self.start, this.processKind, operation, jobId, new Date().toISOString(), this.self.hostname);
      })
      .immediate();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      try {
        this.db.prepare('DELETE FROM device_locks WHERE device_id = ? AND job_id = ? AND pid = ?').run(deviceId, jobId, this.self.pid);
      } catch {
        // the store is closing; the row is stale from now on and will be taken over
      }
    };
  }

  /** Runs `work` holding the device. */
  async hold<T>(deviceId: string, operation: string, jobId: string, work: () => Promise<T>, deviceName?: string): Promise<T> {
    const release = this.acquire(deviceId, operation, jobId, deviceName);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Every lock in the store, live ones only (stale rows of dead processes are left for the next taker). */
  list(): DeviceLockInfo[] {
    const rows = this.db.prepare('SELECT * FROM device_locks ORDER BY since').all() as LockRow[];
    return rows
      .filter((r) => this.alive({ pid: r.pid, start: r.process_start, hostname: r.hostname }, this.self))
      .map((r) => ({
        deviceId: r.device_id,
        pid: r.pid,
        processKind: r.process_kind,
        operation: r.operation,
        jobId: r.job_id,
        since: r.since,
        hostname: r.hostname,
        ours: r.pid === this.self.pid && r.hostname === this.self.hostname,
      }));
  }

  /** Drops this process's locks (on close: nothing of ours runs any more). */
  releaseAll(): void {
    try {
      this.db.prepare('DELETE FROM device_locks WHERE pid = ? AND hostname = ?').run(this.self.pid, this.self.hostname);
    } catch {
      // closing
    }
  }
}
