import { randomUUID } from 'node:crypto';
import type { AbReport, RecordingInfo, Thresholds } from '../../../shared/contract/latency';
import type { Db } from '../store/database';
import type { Migration } from '../store/migrations';

/** Latency owns schema versions 50-59 (see store/migrations.ts). */
export const latencyMigrations: readonly Migration[] = [
  {
    version: 50,
    name: 'latency: thresholds per target, recordings, A/B lab runs',
    up: `
      CREATE TABLE latency_thresholds (
        device_id TEXT NOT NULL,
        target TEXT NOT NULL,
        on_device INTEGER NOT NULL,
        p95_ms REAL,
        loss_pct REAL,
        PRIMARY KEY (device_id, target, on_device)
      );
      CREATE TABLE latency_recordings (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        info TEXT NOT NULL
      );
      -- Samples as little-endian Float64 arrays (epoch ms; latency ms, NaN = lost): 16 bytes a sample.
      CREATE TABLE latency_recording_series (
        recording_id TEXT NOT NULL REFERENCES latency_recordings(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        times BLOB NOT NULL,
        vals BLOB NOT NULL,
        PRIMARY KEY (recording_id, idx)
      );
      CREATE TABLE latency_ab_runs (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        report TEXT NOT NULL
      );
      CREATE INDEX latency_ab_runs_device ON latency_ab_runs(device_id, created_at);
    `,
  },
];

export interface RecordedSeries {
  meta: RecordingInfo['series'][number];
  times: Float64Array;
  values: Float64Array;
}

const blob = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const floats = (b: Buffer) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

export class LatencyRepo {
  constructor(private readonly db: Db) {}

  thresholds(deviceId: string, target: string, onDevice: boolean): Thresholds | undefined {
    const row = this.db.prepare('SELECT p95_ms, loss_pct FROM latency_thresholds WHERE device_id = ? AND target = ? AND on_device = ?').get(deviceId, target, onDevice ? 1 : 0) as
      | { p95_ms: number | null; loss_pct: number | null }
      | undefined;
    return row ? { p95Ms: row.p95_ms, lossPct: row.loss_pct } : undefined;
  }

  saveThresholds(deviceId: string, target: string, onDevice: boolean, t: Thresholds): void {
    this.db
      .prepare('INSERT INTO latency_thresholds (device_id, target, on_device, p95_ms, loss_pct) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET p95_ms = excluded.p95_ms, loss_pct = excluded.loss_pct')
      .run(deviceId, target, onDevice ? 1 : 0, t.p95Ms, t.lossPct);
  }

  saveRecording(name: string, series: RecordedSeries[]): RecordingInfo {
    const info: RecordingInfo = { id: randomUUID(), name, createdAt: new Date().toISOString(), series: series.map((s) => s.meta) };
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO latency_recordings (id, name, created_at, info) VALUES (?, ?, ?, ?)').run(info.id, name, info.createdAt, JSON.stringify(info.series));
      const insert = this.db.prepare('INSERT INTO latency_recording_series (recording_id, idx, times, vals) VALUES (?, ?, ?, ?)');
      series.forEach((s, i) => insert.run(info.id, i, blob(s.times), blob(s.values)));
    })();
    return info;
  }

  recordings(): RecordingInfo[] {
    const rows = this.db.prepare('SELECT id, name, created_at, info FROM latency_recordings ORDER BY created_at DESC').all() as Array<{ id: string; name: string; created_at: string; info: string }>;
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, series: JSON.parse(r.info) as RecordingInfo['series'] }));
  }

  recording(id: string): { info: RecordingInfo; series: RecordedSeries[] } | undefined {
    const info = this.recordings().find((r) => r.id === id);
    if (!info) return undefined;
    const rows = this.db.prepare('SELECT idx, times, vals FROM latency_recording_series WHERE recording_id = ? ORDER BY idx').all(id) as Array<{ idx: number; times: Buffer; vals: Buffer }>;
    return { info, series: rows.map((r) => ({ meta: info.series[r.idx] as RecordedSeries['meta'], times: floats(r.times), values: floats(r.vals) })) };
  }

  deleteRecording(id: string): boolean {
    return this.db.prepare('DELETE FROM latency_recordings WHERE id = ?').run(id).changes > 0;
  }

  saveAb(report: AbReport): void {
    this.db.prepare('INSERT INTO latency_ab_runs (id, device_id, created_at, report) VALUES (?, ?, ?, ?)').run(report.id, report.deviceId, report.createdAt, JSON.stringify(report));
  }

  abRuns(deviceId: string | undefined, limit: number): AbReport[] {
    const rows = deviceId
      ? this.db.prepare('SELECT report FROM latency_ab_runs WHERE device_id = ? ORDER BY created_at DESC LIMIT ?').all(deviceId, limit)
      : this.db.prepare('SELECT report FROM latency_ab_runs ORDER BY created_at DESC LIMIT ?').all(limit);
    return (rows as Array<{ report: string }>).map((r) => JSON.parse(r.report) as AbReport);
  }
}

/** CSV of a recording: one row per sample, lost samples with an empty latency and lost=1. */
export function recordingCsv(series: RecordedSeries[]): { csv: string; rows: number } {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['device,target,on_device,time_iso,time_ms,latency_ms,lost'];
  for (const s of series) {
    const prefix = `${quote(s.meta.deviceName)},${quote(s.meta.target)},${s.meta.onDevice ? 1 : 0}`;
    for (let i = 0; i < s.times.length; i++) {
      const t = s.times[i] as number;
      const v = s.values[i] as number;
      lines.push(`${prefix},${new Date(t).toISOString()},${t.toFixed(3)},${Number.isNaN(v) ? '' : v.toFixed(3)},${Number.isNaN(v) ? 1 : 0}`);
    }
  }
  return { csv: `${lines.join('\n')}\n`, rows: lines.length - 1 };
}
