import { readFileSync } from 'node:fs';
import type { UpstreamStreamStatus } from '../../../../shared/contract/buffers';
import { OutpostError, toErrorBody } from '../../../../shared/errors';
import type { Db } from '../../store/database';
import type { DevicesRepo } from '../../store/devices-repo';
import type { SegmentRow, SegmentStore } from '../segment-store';
import { backoffDelay } from './backoff';
import { recordsOf, topicLevel, type UpstreamRecord } from './records';
import type { UpstreamTarget } from './targets';

export interface PushPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  topicPrefix: string;
  /** Cancels the push between batches and during a backoff wait (acknowledged records stay acknowledged). */
  signal?: AbortSignal;
}

/** A stored segment not yet forwarded to a target, with how many of its records the target acknowledged so far. */
type PendingSegment = Pick<SegmentRow, 'id' | 'device_id' | 'stream' | 'segment' | 'sha256' | 'bytes' | 'kind'> & { records_done: number | null };

/** Waits `ms`, or less when the signal aborts (the caller checks the signal next). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A cursor lagging behind the PUBACKs only means a few more redeliveries after a crash (at-least-once). */
const SAVE_EVERY_RECORDS = 1000;
const SAVE_EVERY_MS = 250;
/** Bounds of one send: segment bodies held in memory at once, and records per sequence. */
const BATCH_BYTES = 64 * 1024 * 1024;
const BATCH_SEGMENTS = 1000;

/** Splits pending segments (ordered by device, stream, id) into runs of one stream, bounded in size. */
function batchesOf(todo: readonly PendingSegment[]): PendingSegment[][] {
  const out: PendingSegment[][] = [];
  let run: PendingSegment[] = [];
  let bytes = 0;
  for (const seg of todo) {
    const head = run[0];
    if (head && (head.device_id !== seg.device_id || head.stream !== seg.stream || bytes + seg.bytes > BATCH_BYTES || run.length >= BATCH_SEGMENTS)) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(seg);
    bytes += seg.bytes;
  }
  if (run.length) out.push(run);
  return out;
}

/**
 * Forwards stored segments upstream in order per stream, remembering in SQLite how many records of each segment a
 * target acknowledged — a restart resumes after the last acknowledged record (at-least-once: records sent but not
 * yet acknowledged when the process died are sent again; each carries a stable `outpost-record` id).
 */
export class UpstreamForwarder {
  constructor(
    private readonly db: Db,
    private readonly store: SegmentStore,
    private readonly devices: DevicesRepo,
  ) {}

  private setStatus(target: string, deviceId: string, stream: string, status: UpstreamStreamStatus['status'], extra: { attempts?: number; nextAttemptAt?: string | null; lastError?: string | null } = {}): void {
    this.db
      .prepare(
        `INSERT INTO upstream_streams (target, device_id, stream, status, attempts, next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(target, device_id, stream) DO UPDATE SET status = excluded.status, attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`,
      )
      .run(target, deviceId, stream, status, extra.attempts ?? 0, extra.nextAttemptAt ?? null, extra.lastError ?? null);
  }

  private pending(target: string): PendingSegment[] {
    return this.db
      .prepare(
        `SELECT s.id, s.device_id, s.stream, s.segment, s.sha256, s.bytes, s.kind, c.records_done FROM buffer_segments s
         LEFT JOIN upstream_cursors c ON c.target = ? AND c.segment_id = s.id
         WHERE COALESCE(c.done, 0) = 0 ORDER BY s.device_id, s.stream, s.id`,
      )
      .all(target) as PendingSegment[];
  }

  private saveCursor(target: string, segmentId: number, recordsDone: number, done: boolean): void {
    this.db
      .prepare(
        `INSERT INTO upstream_cursors (target, segment_id, records_done, done) VALUES (?, ?, ?, ?)
         ON CONFLICT(target, segment_id) DO UPDATE SET records_done = excluded.records_done, done = excluded.done`,
      )
      .run(target, segmentId, recordsDone, done ? 1 : 0);
  }

  private deviceLevel(deviceId: string): string {
    const device = this.devices.find(deviceId);
    return topicLevel(device?.name ?? deviceId, deviceId);
  }

  /** Pushes everything pending to one target, retrying with backoff; throws once `maxAttempts` failures in a row. */
  async push(target: UpstreamTarget, policy: PushPolicy): Promise<{ records: number; segments: number }> {
    let records = 0;
    let segments = 0;
    let failures = 0;
    for (const s of this.pending(target.key)) this.setStatus(target.key, s.device_id, s.stream, 'waiting');
    const cancelled = () => new OutpostError('cancelled', `push to ${target.key} was cancelled after ${records} records`, { recordsForwarded: records });
    for (;;) {
      if (policy.signal?.aborted) {
        await target.close();
        throw cancelled();
      }
      const todo = this.pending(target.key);
      if (!todo.length) break;
      let current: PendingSegment | undefined;
      try {
        await target.connect();
        const batches = batchesOf(todo);
        for (const [i, batch] of batches.entries()) {
          if (policy.signal?.aborted) break;
          current = batch[0];
          if (!current) continue;
          this.setStatus(target.key, current.device_id, current.stream, 'in-flight');
          await this.pushBatch(target, batch, policy.topicPrefix, (n) => (records += n));
          segments += batch.length;
          failures = 0;
          const next = batches[i + 1]?.[0];
          if (next?.device_id !== current.device_id || next.stream !== current.stream) this.setStatus(target.key, current.device_id, current.stream, 'forwarded');
        }
      } catch (err) {
        if (policy.signal?.aborted) {
          await target.close();
          throw cancelled();
        }
        failures++;
        const body = toErrorBody(err);
        const delay = backoffDelay(failures - 1, policy.baseDelayMs, policy.maxDelayMs);
        const nextAttemptAt = failures >= policy.maxAttempts ? null : new Date(Date.now() + delay).toISOString();
        // A failed connect concerns every stream waiting for this target; a failed send, the stream in flight.
        const affected = current ? [current] : [...new Map(todo.map((s) => [`${s.device_id}\0${s.stream}`, s])).values()];
        for (const s of affected) this.setStatus(target.key, s.device_id, s.stream, 'failed', { attempts: failures, nextAttemptAt, lastError: body.message });
        await target.close();
        // A refused certificate or credentials, or bad input, will not get better by waiting.
        if (body.kind === 'auth' || body.kind === 'invalid-input') throw new OutpostError(body.kind, `upstream ${target.key}: ${body.message}`, { recordsForwarded: records });
        if (failures >= policy.maxAttempts) throw new OutpostError(body.kind, `upstream ${target.key} failed ${failures} times in a row: ${body.message}`, { recordsForwarded: records });
        await sleep(delay, policy.signal);
      }
    }
    await target.close();
    return { records, segments };
  }

  /**
   * Sends consecutive segments of one stream as ONE ordered sequence, so the in-flight window stays full across
   * segment boundaries (draining it per segment costs a broker round trip — with Nagle's algorithm on the broker's
   * side, up to 40 ms — each time). `forwarded(n)` reports newly acknowledged records as they are acknowledged,
   * including before a failure. Cursors advance only with PUBACKed (or 2xx) counts, several segments per SQLite
   * transaction.
   */
  private async pushBatch(target: UpstreamTarget, batch: PendingSegment[], prefix: string, forwarded: (n: number) => void): Promise<void> {
    const first = batch[0] as PendingSegment;
    const device = this.deviceLevel(first.device_id);
    const streamTopic = `${prefix}/${device}/${topicLevel(first.stream, 'stream')}`;
    const records: UpstreamRecord[] = [];
    const ids: string[] = [];
    const spans: Array<{ seg: PendingSegment; start: number; from: number; to: number; total: number }> = [];
    for (const seg of batch) {
      const all = recordsOf(seg.kind, seg.segment, readFileSync(this.store.blobPath(seg.sha256)), streamTopic);
      const start = seg.records_done ?? 0;
      const from = records.length;
      for (let i = start; i < all.length; i++) {
        records.push(all[i] as UpstreamRecord);
        ids.push(`${seg.device_id}/${seg.stream}/${seg.segment}#${i}`);
      }
      spans.push({ seg, start, from, to: records.length, total: all.length });
    }
    let open = 0; // first span not yet saved as done
    let saved = -1;
    const save = (n: number) => {
      if (n === saved) return;
      saved = n;
      this.db.transaction(() => {
        for (; open < spans.length; open++) {
          const span = spans[open] as (typeof spans)[number];
          if (span.to > n) {
            if (n > span.from) this.saveCursor(target.key, span.seg.id, span.start + n - span.from, false);
            break;
          }
          this.saveCursor(target.key, span.seg.id, span.total, true);
        }
      })();
    };
    let acked = 0;
    let lastSaveAt = Date.now();
    try {
      await target.send(records, ids, { device, stream: first.stream }, (n) => {
        forwarded(n - acked);
        acked = n;
        if (acked - Math.max(saved, 0) >= SAVE_EVERY_RECORDS || Date.now() - lastSaveAt >= SAVE_EVERY_MS) {
          save(acked);
          lastSaveAt = Date.now();
        }
      });
    } finally {
      save(acked);
    }
    save(records.length);
  }

  /** Stored segments this target has not acknowledged in full. */
  pendingCount(target: string): number {
    return this.db
      .prepare(`SELECT count(*) FROM buffer_segments s LEFT JOIN upstream_cursors c ON c.target = ? AND c.segment_id = s.id WHERE COALESCE(c.done, 0) = 0`)
      .pluck()
      .get(target) as number;
  }

  status(): UpstreamStreamStatus[] {
    const rows = this.db
      .prepare(
        `SELECT u.target, u.device_id, u.stream, u.status, u.attempts, u.next_attempt_at, u.last_error,
           (SELECT count(*) FROM buffer_segments s LEFT JOIN upstream_cursors c ON c.target = u.target AND c.segment_id = s.id
             WHERE s.device_id = u.device_id AND s.stream = u.stream AND COALESCE(c.done, 0) = 0) AS pending,
           (SELECT COALESCE(sum(c.records_done), 0) FROM upstream_cursors c JOIN buffer_segments s ON s.id = c.segment_id
             WHERE c.target = u.target AND s.device_id = u.device_id AND s.stream = u.stream) AS forwarded
         FROM upstream_streams u ORDER BY u.target, u.device_id, u.stream`,
      )
      .all() as Array<{ target: string; device_id: string; stream: string; status: UpstreamStreamStatus['status']; attempts: number; next_attempt_at: string | null; last_error: string | null; pending: number; forwarded: number }>;
    return rows.map((r) => ({
      target: r.target,
      deviceId: r.device_id,
      stream: r.stream,
      // A stream flushed after its last push has new segments waiting.
      status: r.status === 'forwarded' && r.pending > 0 ? 'waiting' : r.status,
      segmentsPending: r.pending,
      recordsForwarded: r.forwarded,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
    }));
  }
}
