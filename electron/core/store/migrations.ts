/**
 * Versioned schema changes, applied in version order and never edited once released: add a new one instead.
 * Each area owns a range so parallel work never collides: core 1-9, discovery 10-19, workloads 20-29,
 * buffers 30-39, pki 40-49, latency 50-59, serial 60-69.
 */
import { buffersMigrations } from '../buffers/schema';
import { latencyMigrations } from '../latency/latency-repo';
import { deviceLocksMigration } from '../jobs/device-locks';
import { pkiMigrations } from '../pki/schema';
import { settingsMigration } from '../settings/link-defaults';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'devices',
    up: `
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hostnames TEXT NOT NULL DEFAULT '[]',
        addresses TEXT NOT NULL DEFAULT '[]',
        macs TEXT NOT NULL DEFAULT '[]',
        sources TEXT NOT NULL DEFAULT '[]',
        services TEXT NOT NULL DEFAULT '[]',
        ssh TEXT NOT NULL DEFAULT '{"port":22,"user":"root"}',
        docker TEXT,
        serial_path TEXT,
        tags TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'unknown',
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
      );
      CREATE INDEX devices_name ON devices(name);
    `,
  },
  {
    version: 2,
    name: 'known hosts',
    up: `
      CREATE TABLE known_hosts (
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        public_key TEXT NOT NULL,
        pinned_at TEXT NOT NULL,
        PRIMARY KEY (host, port)
      );
    `,
  },
  {
    version: 10,
    name: 'secrets vault (discovery: device passwords, AES-256-GCM, scrypt-derived key)',
    up: `
      CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        salt BLOB NOT NULL,
        iv BLOB NOT NULL,
        tag BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 20,
    name: 'workloads: deploy history per device',
    up: `
      CREATE TABLE deploy_history (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        service TEXT NOT NULL,
        image TEXT NOT NULL,
        image_id TEXT NOT NULL,
        previous_image_id TEXT,
        phase TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        bytes_sent INTEGER NOT NULL DEFAULT 0,
        spec TEXT NOT NULL,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX deploy_history_device ON deploy_history(device_id, service, started_at);
      CREATE TABLE deploy_steps (
        deploy_id TEXT NOT NULL REFERENCES deploy_history(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        phase TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT ''
      );
    `,
  },
  {
    version: 21,
    name: 'workloads: the history chain (which deploy each one replaced, which one a rollback reinstated)',
    up: `
      ALTER TABLE deploy_history ADD COLUMN previous_deploy_id TEXT;
      ALTER TABLE deploy_history ADD COLUMN rollback_of TEXT;
    `,
  },
  deviceLocksMigration,
  settingsMigration,
  ...buffersMigrations,
  ...latencyMigrations,
  ...pkiMigrations,
];
