import { createHash } from 'node:crypto';
import type { OutboxSpec } from '../../../shared/contract/buffers';
import { OutpostError } from '../../../shared/errors';
import { failIfNonZero, runBounded, streamTotals, type DeviceFlushContext } from './device-ops';
import { outboxStream } from './device-config';

const PAGE_ROWS = 5000;

/**
 * Rows come out of the device's SQLite as NDJSON built by SQLite itself (json_object escapes every value), so
 * the laptop stores exactly the bytes the device produced. Binary payloads travel hex-encoded.
 */
function selectSql(table: string, where: string, limit: number | null): string {
  return (
    `SELECT json_object('id', id, 'ts', ts, 'topic', topic, ` +
    `'payload', CASE WHEN typeof(payload) = 'blob' THEN NULL ELSE payload END, ` +
    `'payloadHex', CASE WHEN typeof(payload) = 'blob' THEN hex(payload) ELSE NULL END) ` +
    `FROM "${table}" WHERE ${where} ORDER BY id${limit ? ` LIMIT ${limit}` : ''};`
  );
}

function sqliteArgv(spec: OutboxSpec, sql: string): string[] {
  // `.timeout` waits for the producer's write lock instead of failing with "database is locked".
  return ['sqlite3', '-bail', '-batch', '-cmd', '.timeout 10000', spec.file, sql];
}

interface Page {
  firstId: number;
  lastId: number;
  rows: number;
  body: Buffer;
  sha256: string;
}

function pageFrom(stdout: Buffer): Page | null {
  const lines = stdout.toString('utf8').split('\n').filter((l) => l.length > 0);
  if (!lines.length) return null;
  const ids = lines.map((l) => {
    const parsed = JSON.parse(l) as { id?: unknown };
    if (typeof parsed.id !== 'number' || !Number.isInteger(parsed.id)) throw new OutpostError('protocol', 'outbox row without an integer id');
    return parsed.id;
  });
  const body = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  return { firstId: ids[0] ?? 0, lastId: ids[ids.length - 1] ?? 0, rows: lines.length, body, sha256: createHash('sha256').update(body).digest('hex') };
}

function markKey(deviceId: string, spec: OutboxSpec): string {
  return `outbox-last-page:${deviceId}:${spec.file}:${spec.table}`;
}

async function deleteRange(ctx: DeviceFlushContext, spec: OutboxSpec, page: Pick<Page, 'firstId' | 'lastId'>): Promise<void> {
  const sql = `DELETE FROM "${spec.table}" WHERE id >= ${page.firstId} AND id <= ${page.lastId};`;
  const res = await runBounded(ctx.conn, sqliteArgv(spec, sql), ctx.stallMs, `acknowledging outbox rows in ${spec.file}`);
  failIfNonZero(res, `deleting flushed rows from ${spec.file}`);
}

/** Counts an outbox for scans: rows and the payload bytes they hold. */
export async function scanOutbox(ctx: Pick<DeviceFlushContext, 'conn' | 'stallMs'>, spec: OutboxSpec): Promise<{ rows: number; bytes: number; oldest: string | null }> {
  const sql = `SELECT count(*), COALESCE(sum(length(payload)), 0), COALESCE(min(ts), '') FROM "${spec.table}";`;
  const res = await runBounded(ctx.conn, ['sqlite3', '-bail', '-batch', '-separator', '|', '-cmd', '.timeout 10000', spec.file, sql], ctx.stallMs, `counting ${spec.file}`);
  failIfNonZero(res, `reading ${spec.file}`);
  const [rows = '0', bytes = '0', oldest = ''] = res.stdout.toString('utf8').trim().split('|');
  const t = Number(oldest);
  const iso = oldest === '' ? null : Number.isFinite(t) ? new Date(t > 1e12 ? t : t * 1000).toISOString() : oldest;
  return { rows: Number(rows), bytes: Number(bytes), oldest: iso };
}

/**
 * Drains one outbox page by page: read in id order, store durably, then delete exactly the rows stored. A crash
 * between "stored" and "deleted" leaves the last page on the device; the next flush recognises it by checksum
 * and only deletes it.
 */
export async function flushOutbox(ctx: DeviceFlushContext, spec: OutboxSpec): Promise<void> {
  const stream = outboxStream(spec);
  const totals = streamTotals(ctx.result, stream);
  const counted = await scanOutbox(ctx, spec);
  ctx.progress.addTotal(stream, counted.bytes);

  const mark = ctx.store.setting(markKey(ctx.device.id, spec));
  if (mark) {
    const last = JSON.parse(mark) as { firstId: number; lastId: number; sha256: string };
    const res = await runBounded(ctx.conn, sqliteArgv(spec, selectSql(spec.table, `id >= ${last.firstId} AND id <= ${last.lastId}`, null)), ctx.stallMs, `re-reading ${spec.file}`);
    failIfNonZero(res, `reading ${spec.file}`);
    const again = pageFrom(res.stdout);
    if (again && again.sha256 === last.sha256) {
      await deleteRange(ctx, spec, again);
      totals.duplicatesSkipped++;
    }
  }

  let cursor = 0;
  for (;;) {
    const res = await runBounded(ctx.conn, sqliteArgv(spec, selectSql(spec.table, `id > ${cursor}`, PAGE_ROWS)), ctx.stallMs, `reading ${spec.file}`);
    failIfNonZero(res, `reading ${spec.file}`);
    const page = pageFrom(res.stdout);
    if (!page) return;
    const key = { deviceId: ctx.device.id, stream, segment: `${spec.table}-${page.firstId}-${page.lastId}.ndjson` };
    if (ctx.store.holds(key, page.sha256)) {
      totals.duplicatesSkipped++;
    } else {
      const writer = ctx.store.beginWrite(page.body.length);
      writer.write(page.body);
      const done = await writer.finish();
      ctx.store.commit(
        [{ tmpPath: writer.path, segment: { ...key, sha256: done.sha256, bytes: done.bytes, kind: 'outbox', records: page.rows, sourceTime: null } }],
        [[markKey(ctx.device.id, spec), JSON.stringify({ firstId: page.firstId, lastId: page.lastId, sha256: page.sha256 })]],
      );
      totals.segments++;
      totals.bytes += done.bytes;
    }
    await deleteRange(ctx, spec, page);
    ctx.progress.advance(stream, page.body.length);
    cursor = page.lastId;
  }
}
