import type { Migration } from '../store/migrations';

/** Buffers own schema versions 30-39 (see store/migrations.ts). */
export const buffersMigrations: readonly Migration[] = [
  {
    version: 30,
    name: 'buffers: device config, laptop segment store, quarantine, upstream cursors',
    up: `
      CREATE TABLE buffer_configs (
        device_id TEXT PRIMARY KEY,
        spools TEXT NOT NULL,
        outboxes TEXT NOT NULL,
        ack TEXT NOT NULL DEFAULT 'delete'
      );
      -- One row per segment the laptop holds durably. The key includes the checksum: a producer that reuses a
      -- name for new content makes a new row, a replay of the same bytes is a duplicate.
      CREATE TABLE buffer_segments (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        segment TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        kind TEXT NOT NULL,
        records INTEGER,
        source_time TEXT,
        stored_at TEXT NOT NULL,
        UNIQUE (device_id, stream, segment, sha256)
      );
      CREATE INDEX buffer_segments_stream ON buffer_segments(device_id, stream, id);
      CREATE TABLE buffer_quarantine (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        segment TEXT NOT NULL,
        expected TEXT,
        actual TEXT NOT NULL,
        reason TEXT NOT NULL,
        path TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (device_id, stream, segment, actual)
      );
      CREATE TABLE buffer_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      -- Upstream progress per (target, segment): how many records the target acknowledged.
      CREATE TABLE upstream_cursors (
        target TEXT NOT NULL,
        segment_id INTEGER NOT NULL,
        records_done INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (target, segment_id)
      );
      CREATE TABLE upstream_streams (
        target TEXT NOT NULL,
        device_id TEXT NOT NULL,
        stream TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error TEXT,
        PRIMARY KEY (target, device_id, stream)
      );
    `,
  },
];
