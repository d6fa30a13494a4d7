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
  {
    version: 31,
    name: 'buffers: running total of stored blob bytes (O(1) quota checks), index by checksum',
    up: `
      CREATE INDEX buffer_segments_sha256 ON buffer_segments(sha256);
      -- Blobs are stored once per checksum, so a row adds bytes only when it brings new content. Kept by a trigger
      -- in the same transaction as the insert, so every process writing the store sees the same total.
      CREATE TABLE buffer_usage (id INTEGER PRIMARY KEY CHECK (id = 1), blob_bytes INTEGER NOT NULL);
      INSERT INTO buffer_usage (id, blob_bytes)
        SELECT 1, COALESCE(SUM(bytes), 0) FROM (SELECT sha256, MAX(bytes) AS bytes FROM buffer_segments GROUP BY sha256);
      CREATE TRIGGER buffer_segments_usage AFTER INSERT ON buffer_segments
        WHEN NOT EXISTS (SELECT 1 FROM buffer_segments WHERE sha256 = NEW.sha256 AND id != NEW.id)
        BEGIN UPDATE buffer_usage SET blob_bytes = blob_bytes + NEW.bytes WHERE id = 1; END;
    `,
  },
  {
    version: 32,
    name: 'buffers: prune — exported segments marked, running total kept exact under deletes',
    up: `
      ALTER TABLE buffer_segments ADD COLUMN exported_at TEXT;
      CREATE INDEX upstream_cursors_segment ON upstream_cursors(segment_id, done);
      -- The mirror of buffer_segments_usage: a row gives its bytes back only when it was the last holder of its blob.
      -- Row triggers fire as each row goes, so two rows of one blob deleted by one statement subtract it once.
      CREATE TRIGGER buffer_segments_usage_delete AFTER DELETE ON buffer_segments
        WHEN NOT EXISTS (SELECT 1 FROM buffer_segments WHERE sha256 = OLD.sha256)
        BEGIN UPDATE buffer_usage SET blob_bytes = blob_bytes - OLD.bytes WHERE id = 1; END;
    `,
  },
];
