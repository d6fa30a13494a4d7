import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../store/database';
import { migrations } from '../store/migrations';
import { BufferConfigs, DEFAULT_SPOOL } from './device-config';

describe('BufferConfigs', () => {
  it('answers a read without a change by leaving the device on the defaults', () => {
    const db = new Database(':memory:');
    migrate(db, migrations);
    const configs = new BufferConfigs(db);
    expect(configs.set('d1', {})).toMatchObject({ spools: [DEFAULT_SPOOL], defaults: true });
    expect(configs.get('d1').defaults).toBe(true);
    expect(configs.set('d1', { spools: ['/data/spool'] })).toMatchObject({ spools: ['/data/spool'], defaults: false });
    expect(configs.set('d1', {})).toMatchObject({ spools: ['/data/spool'], defaults: false });
    expect(configs.set('d1', { reset: true })).toMatchObject({ spools: [DEFAULT_SPOOL], defaults: true });
    db.close();
  });
});
