import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Vault } from '../secrets/vault';
import { openDatabase } from '../store/database';
import { PkiRepo } from './pki-repo';
import { SiteCas } from './site-ca';
import { UnlockCache } from './unlock-cache';

describe('UnlockCache', () => {
  it('ten devices at once: one CA unlock and one laptop client certificate, not ten', async () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-unlock-')), 'db.sqlite'));
    const repo = new PkiRepo(db);
    const vault = (p?: string) => new Vault(db, () => p);
    const cas = new SiteCas(repo, vault);
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 30, passphrase: 'pw' });
    const unlock = vi.spyOn(cas, 'unlock');
    const cache = new UnlockCache({ cas, repo, vault }, 'pw');
    const creds = await Promise.all(Array.from({ length: 10 }, () => cache.laptopCredentials(ca, 'docker-client')));
    expect(new Set(creds.map((c) => c.cert)).size).toBe(1);
    expect(repo.certificates({ caId: ca.id }).filter((c) => c.profile === 'docker-client')).toHaveLength(1);
    expect(unlock).toHaveBeenCalledTimes(1);
    await cache.laptopCredentials(ca, 'mqtt-client');
    expect(repo.certificates({ caId: ca.id }).map((c) => c.profile).sort()).toEqual(['docker-client', 'mqtt-client']);
  });

  it('a wrong passphrase fails every caller with kind auth', async () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-unlock-')), 'db.sqlite'));
    const repo = new PkiRepo(db);
    const vault = (p?: string) => new Vault(db, () => p);
    const cas = new SiteCas(repo, vault);
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 30, passphrase: 'pw' });
    const cache = new UnlockCache({ cas, repo, vault }, 'wrong');
    await expect(cache.unlock(ca)).rejects.toMatchObject({ kind: 'auth' });
    await expect(cache.laptopCredentials(ca, 'mqtt-client')).rejects.toMatchObject({ kind: 'auth' });
  });
});
