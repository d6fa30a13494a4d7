import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PruneArgs } from '../../../shared/contract/buffers';
import { openDatabase, type Db } from '../store/database';
import { SegmentStore, type NewSegment } from './segment-store';

let open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of open) o.close();
  open = [];
});

function setup(): { db: Db; store: SegmentStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-prune-'));
  const db = openDatabase(join(dir, 'outpost.db'));
  const store = new SegmentStore(dir, join(dir, 'outpost.db'));
  open.push(store, db);
  return { db, store, dir };
}

/** Stores `body` as a segment the way a flush does (temp file, group commit). */
function put(store: SegmentStore, deviceId: string, stream: string, segment: string, body: Buffer): NewSegment {
  const tmpPath = store.tmpPath();
  writeFileSync(tmpPath, body);
  const seg: NewSegment = { deviceId, stream, segment, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length, kind: 'spool', records: null, sourceTime: null };
  store.commit([{ tmpPath, segment: seg }]);
  return seg;
}

/** The total as migration 31 computes it from scratch: each stored content once. */
function recomputed(db: Db): number {
  return db.prepare('SELECT COALESCE(SUM(bytes), 0) FROM (SELECT sha256, MAX(bytes) AS bytes FROM buffer_segments GROUP BY sha256)').pluck().get() as number;
}

function forward(db: Db, deviceId: string, stream: string): void {
  db.prepare(`INSERT INTO upstream_cursors (target, segment_id, records_done, done) SELECT 'mqtt://up', id, 1, 1 FROM buffer_segments WHERE device_id = ? AND stream = ?`).run(deviceId, stream);
}

describe('store prune', () => {
  it('deletes only forwarded or exported segments unless forced, frees shared content once, keeps the running total exact', () => {
    const { db, store } = setup();
    const shared = randomBytes(3000);
    put(store, 'dev-a', 'telemetry', 'a1', randomBytes(1000));
    put(store, 'dev-a', 'telemetry', 'a2', shared);
    put(store, 'dev-a', 'logs', 'l1', randomBytes(500));
    put(store, 'dev-b', 'telemetry', 'b1', shared); // same content as dev-a's a2: one blob
    put(store, 'dev-b', 'telemetry', 'b2', randomBytes(700));
    expect(store.usedBytes()).toBe(1000 + 3000 + 500 + 700);
    expect(store.usedBytes()).toBe(recomputed(db));
    forward(db, 'dev-a', 'telemetry');
    const b2 = store.list({ deviceId: 'dev-b', stream: 'telemetry', limit: 10 }).find((s) => s.segment === 'b2');
    store.markExported([b2!.id]);

    const before = readdirSync(store.segmentsDir).length;
    const preview = store.prune({ deviceId: 'dev-a', dryRun: true });
    expect(preview).toMatchObject({ dryRun: true, segments: 2, bytes: 4000, keptSegments: 1, keptBytes: 500 });
    // a2's content is still held by dev-b's b1: only a1's 1000 bytes would leave the disk.
    expect(preview.freedBytes).toBe(1000);
    expect(preview.groups).toEqual([
      { deviceId: 'dev-a', stream: 'logs', segments: 0, bytes: 0, keptSegments: 1, keptBytes: 500 },
      { deviceId: 'dev-a', stream: 'telemetry', segments: 2, bytes: 4000, keptSegments: 0, keptBytes: 0 },
    ]);
    expect(readdirSync(store.segmentsDir)).toHaveLength(before);
    expect(store.usedBytes()).toBe(5200);

    const done = store.prune({ deviceId: 'dev-a' });
    expect(done).toMatchObject({ dryRun: false, segments: 2, freedBytes: 1000, keptSegments: 1 });
    expect(store.usedBytes()).toBe(4200);
    expect(store.usedBytes()).toBe(recomputed(db));
    expect(existsSync(store.blobPath(createHash('sha256').update(shared).digest('hex')))).toBe(true);
    expect(readdirSync(store.segmentsDir)).toHaveLength(before - 1);
    expect(db.prepare('SELECT count(*) FROM upstream_cursors').pluck().get()).toBe(0);

    // Every forwarded or exported segment, wherever it is: dev-b's exported b2.
    expect(store.prune({ allForwarded: true })).toMatchObject({ segments: 1, bytes: 700, freedBytes: 700, keptSegments: 0 });
    expect(store.usedBytes()).toBe(recomputed(db));

    // Forced: the rest, including the last holder of the shared blob.
    expect(store.prune({ olderThanSeconds: 0, force: true })).toMatchObject({ segments: 2, freedBytes: 3500 });
    expect(store.usedBytes()).toBe(0);
    expect(readdirSync(store.segmentsDir)).toEqual([]);
  });

  it('subtracts a blob once when one statement deletes every row that holds it', () => {
    const { db, store } = setup();
    const body = randomBytes(4096);
    put(store, 'd', 's', 'x', body);
    put(store, 'd', 's', 'y', body);
    put(store, 'd', 't', 'z', body);
    expect(store.usedBytes()).toBe(4096);
    db.prepare(`DELETE FROM buffer_segments WHERE stream = 's'`).run();
    expect(store.usedBytes()).toBe(4096);
    db.prepare(`DELETE FROM buffer_segments`).run();
    expect(store.usedBytes()).toBe(0);
    put(store, 'd', 's', 'x', body);
    expect(store.usedBytes()).toBe(4096);
  });

  it('selects by age: only what the laptop has held longer than asked', () => {
    const { db, store } = setup();
    put(store, 'd', 's', 'old', randomBytes(100));
    put(store, 'd', 's', 'new', randomBytes(200));
    db.prepare(`UPDATE buffer_segments SET stored_at = ? WHERE segment = 'old'`).run(new Date(Date.now() - 8 * 86400_000).toISOString());
    expect(store.prune({ olderThanSeconds: 7 * 86400, force: true })).toMatchObject({ segments: 1, bytes: 100 });
    expect(store.list({ limit: 10 }).map((s) => s.segment)).toEqual(['new']);
    expect(store.usedBytes()).toBe(200);
  });

  it('refuses a prune that names nothing to select', () => {
    expect(PruneArgs.safeParse({ force: true }).success).toBe(false);
    expect(PruneArgs.safeParse({ allForwarded: true }).success).toBe(true);
  });
});
