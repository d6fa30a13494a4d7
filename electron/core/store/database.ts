import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations, type Migration } from './migrations';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the local store: SQLite in WAL mode, foreign keys on, and every pending
 * migration applied in order inside its own transaction. `user_version` records the schema version.
 */
export function openDatabase(file: string, list: readonly Migration[] = migrations): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, list);
  return db;
}

export function migrate(db: Db, unordered: readonly Migration[]): void {
  const list = [...unordered].sort((a, b) => a.version - b.version);
  const versions = list.map((m) => m.version);
  if (versions.some((v, i) => i > 0 && v === versions[i - 1])) throw new Error('two migrations share a version');
  const current = db.pragma('user_version', { simple: true }) as number;
  const newest = versions.at(-1) ?? 0;
  if (current > newest) {
    throw new Error(`this data dir was written by a newer Outpost (schema ${current}, this build knows ${newest})`);
  }
  for (const m of list) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
