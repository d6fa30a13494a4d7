import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { lazyModule } from '../lazy-require';
import { migrations, type Migration } from './migrations';

// Loaded when a database is first opened: `outpost info` and `--help` open none (the native module is ~5 MiB).
const sqlite = lazyModule<typeof Database>('better-sqlite3');

export type Db = Database.Database;

/**
 * Opens (creating if needed) the local store: SQLite in WAL mode, foreign keys on, and every pending
 * migration applied in order inside its own transaction. `user_version` records the schema version.
 */
export function openDatabase(file: string, list: readonly Migration[] = migrations): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new (sqlite())(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, list);
  return db;
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, in version order. Areas own version ranges
 * (see migrations.ts), so a lower-numbered migration may arrive after a higher one was applied: it is applied
 * too, not skipped. `user_version` mirrors the newest applied version for tools that look there.
 */
export function migrate(db: Db, unordered: readonly Migration[]): void {
  const list = [...unordered].sort((a, b) => a.version - b.version);
  const versions = list.map((m) => m.version);
  if (versions.some((v, i) => i > 0 && v === versions[i - 1])) throw new Error('two migrations share a version');
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  const known = new Set(versions);
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length) {
    throw new Error(`this data dir was written by a newer Outpost (schema migrations ${unknown.join(', ')} unknown to this build)`);
  }
  for (const m of list) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
      const newest = Math.max(m.version, db.pragma('user_version', { simple: true }) as number);
      db.pragma(`user_version = ${newest}`);
    })();
  }
}
