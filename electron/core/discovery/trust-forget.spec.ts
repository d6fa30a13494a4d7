import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../app';

let core: Core | undefined;
let dir = '';
afterEach(async () => {
  await core?.close();
  core = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('trust:forget', () => {
  it("forgets a device's key at every address it is known by (a DHCP move left it pinned at the old one), nothing else", async () => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-forget-'));
    core = createCore({ dataDir: dir, transport: 'in-process' });
    const api = inProcessApi(core);
    const gw = await api.invoke('devices:add', { host: '10.0.4.17', name: 'gw-1' });
    await api.invoke('devices:update', { id: gw.id, addresses: ['10.0.4.17', '10.0.4.90'] });
    const other = await api.invoke('devices:add', { host: '10.0.4.18', name: 'gw-2' });
    const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJ8v', 'base64');
    core.knownHosts.pin('10.0.4.17', 22, blob);
    core.knownHosts.pin('10.0.4.90', 22, blob);
    core.knownHosts.pin('10.0.4.18', 22, blob);
    expect(await api.invoke('trust:forget', { device: 'gw-1' })).toEqual({ forgotten: true });
    expect((await api.invoke('trust:list', {})).map((k) => k.host)).toEqual(['10.0.4.18']);
    expect(await api.invoke('trust:forget', { device: gw.id })).toEqual({ forgotten: false });
    expect(other.name).toBe('gw-2');
  });

  it('forgets on the site default port for a device without its own', async () => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-forget-'));
    core = createCore({ dataDir: dir, transport: 'in-process' });
    const api = inProcessApi(core);
    await api.invoke('devices:add', { host: '10.0.4.17', name: 'gw-1' });
    await api.invoke('link:defaults-set', { port: 2222 });
    core.knownHosts.pin('10.0.4.17', 2222, Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJ8v', 'base64'));
    expect(await api.invoke('trust:forget', { device: 'gw-1' })).toEqual({ forgotten: true });
  });
});
