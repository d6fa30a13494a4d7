import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';
import { DevicesRepo } from './devices-repo';

describe('devices repo: shared host keys', () => {
  it('marks every record whose host key another record has, on every read, and never stores the mark', () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-repo-')), 'o.db'));
    const repo = new DevicesRepo(db);
    const a = repo.add({ name: 'a', host: '10.0.0.10' });
    const b = repo.add({ name: 'b', host: '10.0.0.11' });
    const c = repo.add({ name: 'c', host: '10.0.0.12' });
    for (const [d, fp] of [[a, 'SHA256:img'], [b, 'SHA256:img'], [c, 'SHA256:own']] as const) repo.save({ ...d, ssh: { ...d.ssh, hostKeyFingerprint: fp } });
    expect(repo.list().map((d) => [d.name, d.ssh.sharedHostKeyWith])).toEqual([
      ['a', [b.id]],
      ['b', [a.id]],
      ['c', undefined],
    ]);
    expect(repo.get(a.id).ssh.sharedHostKeyWith).toEqual([b.id]);
    expect(repo.find('10.0.0.11')?.ssh.sharedHostKeyWith).toEqual([a.id]);
    expect(JSON.stringify(db.prepare('SELECT ssh FROM devices').all())).not.toContain('sharedHostKeyWith');
    // b's keys regenerated: neither is marked any more, even though a's stored record was never touched.
    repo.save({ ...repo.get(b.id), ssh: { ...repo.get(b.id).ssh, hostKeyFingerprint: 'SHA256:new' } });
    expect(repo.get(a.id).ssh.sharedHostKeyWith).toBeUndefined();
    expect(repo.get(b.id).ssh.sharedHostKeyWith).toBeUndefined();
    db.close();
  });
});
