import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase } from './database';
import { migrations } from './migrations';

describe('openDatabase', () => {
  it('uses WAL and applies every migration once, in version order', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outpost-db-')), 'o.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const newest = Math.max(...migrations.map((m) => m.version));
    expect(db.pragma('user_version', { simple: true })).toBe(newest);
    db.close();
    const again = openDatabase(file);
    expect(again.pragma('user_version', { simple: true })).toBe(newest);
    again.close();
  });

  it('sorts migrations by version and refuses duplicates', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outpost-db-')), 'o.db');
    const db = openDatabase(file, []);
    migrate(db, [
      { version: 3, name: 'b', up: 'CREATE TABLE b (x REFERENCES a(id));' },
      { version: 2, name: 'a', up: 'CREATE TABLE a (id INTEGER PRIMARY KEY);' },
    ]);
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(() => migrate(db, [{ version: 4, name: 'x', up: '' }, { version: 4, name: 'y', up: '' }])).toThrow(/share a version/);
  });

  it('refuses a data dir written by a newer schema', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outpost-db-')), 'o.db');
    const db = openDatabase(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')").run();
    db.close();
    expect(() => openDatabase(file)).toThrow(/newer Outpost/);
  });

  it('applies a lower-numbered migration that arrives after a higher one', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'outpost-db-')), 'o.db');
    const db = openDatabase(file, []);
    migrate(db, [{ version: 20, name: 'workloads', up: 'CREATE TABLE w (id INTEGER);' }]);
    migrate(db, [
      { version: 10, name: 'discovery', up: 'CREATE TABLE d (id INTEGER);' },
      { version: 20, name: 'workloads', up: 'CREATE TABLE w (id INTEGER);' },
    ]);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['d', 'w']));
    expect(db.pragma('user_version', { simple: true })).toBe(20);
  });
});
