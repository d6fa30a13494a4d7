import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../app';
import { migrate } from '../store/database';
import { migrations } from '../store/migrations';

let core: Core | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await core?.close();
  core = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'outpost-linkdef-'));
  dirs.push(d);
  return d;
}

describe('site link defaults', () => {
  it('are kept in the store, changed field by field, and cleared with null', async () => {
    const dir = tmp();
    const key = join(dir, 'site_ed25519');
    writeFileSync(key, 'not really a key\n', { mode: 0o600 });
    core = createCore({ dataDir: dir, transport: 'in-process' });
    const api = inProcessApi(core);
    expect(await api.invoke('link:defaults', {})).toEqual({});
    expect(await api.invoke('link:defaults-set', { user: 'pi', port: 2222 })).toEqual({ user: 'pi', port: 2222 });
    expect(await api.invoke('link:defaults-set', { identityFile: key })).toEqual({ user: 'pi', port: 2222, identityFile: key });
    expect(await api.invoke('link:defaults-set', { port: null })).toEqual({ user: 'pi', identityFile: key });
    await core.close();
    // Another process on the same $OUTPOST_HOME (the CLI beside the app) sees them.
    core = createCore({ dataDir: dir, transport: 'in-process' });
    expect(await inProcessApi(core).invoke('link:defaults', {})).toEqual({ user: 'pi', identityFile: key });
  });

  it('refuses a key file that is not on this laptop, and a bad user name', async () => {
    core = createCore({ dataDir: tmp(), transport: 'in-process' });
    const api = inProcessApi(core);
    await expect(api.invoke('link:defaults-set', { identityFile: '/nonexistent/site_key' })).rejects.toMatchObject({ kind: 'invalid-input' });
    await expect(api.invoke('link:defaults-set', { user: 'pi; rm -rf /' })).rejects.toMatchObject({ kind: 'invalid-input' });
    expect(await api.invoke('link:defaults', {})).toEqual({});
  });

  it('apply where the core dials: a device without its own login takes them, a device with its own keeps it', async () => {
    core = createCore({ dataDir: tmp(), transport: 'in-process' });
    const api = inProcessApi(core);
    const bare = await api.invoke('devices:add', { host: '10.0.4.17' });
    const owned = await api.invoke('devices:add', { host: '10.0.4.18', sshUser: 'admin', sshPort: 2200 });
    expect(bare.ssh.user).toBeUndefined();
    await api.invoke('link:defaults-set', { user: 'pi', port: 2222 });
    expect(core.links.targetFor(core.devices.get(bare.id))).toMatchObject({ host: '10.0.4.17', user: 'pi', port: 2222 });
    expect(core.links.targetFor(core.devices.get(owned.id))).toMatchObject({ host: '10.0.4.18', user: 'admin', port: 2200 });
    expect(core.links.targetFor(core.devices.get(owned.id), { user: 'tech' })).toMatchObject({ user: 'tech', port: 2200 });
    // null on the device goes back to the site default.
    await api.invoke('devices:update', { id: owned.id, sshUser: null });
    expect(core.links.targetFor(core.devices.get(owned.id))).toMatchObject({ user: 'pi', port: 2200 });
  });

  it('keep one set per site (the devices\' site tag) over the set for every site', async () => {
    core = createCore({ dataDir: tmp(), transport: 'in-process' });
    const api = inProcessApi(core);
    const north = await api.invoke('devices:add', { host: '10.0.4.17', tags: { site: 'north' } });
    const south = await api.invoke('devices:add', { host: '10.0.5.17', tags: { site: 'south' } });
    await api.invoke('link:defaults-set', { user: 'pi', port: 2222 });
    expect(await api.invoke('link:defaults-set', { site: 'north', user: 'ops' })).toEqual({ user: 'ops' });
    expect(await api.invoke('link:defaults-all', {})).toEqual({ all: { user: 'pi', port: 2222 }, sites: { north: { user: 'ops' } } });
    expect(await api.invoke('link:defaults', { site: 'north' })).toEqual({ user: 'ops' });
    expect(core.links.targetFor(core.devices.get(north.id))).toMatchObject({ user: 'ops', port: 2222 });
    expect(core.links.targetFor(core.devices.get(south.id))).toMatchObject({ user: 'pi', port: 2222 });
    // Re-tagging a device moves it to the other site's set.
    await api.invoke('devices:update', { id: south.id, tags: { site: 'north' } });
    expect(core.links.targetFor(core.devices.get(south.id))).toMatchObject({ user: 'ops' });
    expect(await api.invoke('link:defaults-set', { site: 'north', user: null })).toEqual({});
    expect((await api.invoke('link:defaults-all', {})).sites).toEqual({});
  });

  it('migrates records written before site defaults: root / 22 become "not set", other values stay the device\'s own', () => {
    const db = new Database(':memory:');
    migrate(db, migrations.filter((m) => m.version < 3));
    const insert = db.prepare("INSERT INTO devices (id, name, ssh, first_seen, last_seen) VALUES (?, ?, ?, 'x', 'x')");
    insert.run('a', 'a', JSON.stringify({ user: 'root', port: 22, hostKeyFingerprint: 'SHA256:x' }));
    insert.run('b', 'b', JSON.stringify({ user: 'pi', port: 2222, identityFile: '/k' }));
    migrate(db, migrations);
    const ssh = (id: string) => JSON.parse((db.prepare('SELECT ssh FROM devices WHERE id = ?').get(id) as { ssh: string }).ssh) as Record<string, unknown>;
    expect(ssh('a')).toEqual({ hostKeyFingerprint: 'SHA256:x' });
    expect(ssh('b')).toEqual({ user: 'pi', port: 2222, identityFile: '/k' });
    db.close();
  });
});
