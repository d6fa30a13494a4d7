import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, Device } from '../../shared/contract';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import { importBusyboxImage, startLab, type Lab } from './lab';

// The engine where the device keeps it: a dockerd listening only on a socket that sshd announces through
// DOCKER_HOST (SetEnv), and a device with no engine at all.
let lab: Lab;
let core: Core;
let api: Api;
let home: string;
const devices: Record<string, Device> = {};
const link = { acceptNewHostKey: true, identityFile: '' };
const SOCKET = '/var/run/engine/docker.sock';

beforeAll(async () => {
  lab = await startLab({
    devices: [
      { name: 'eng-dh', docker: true, dockerSocket: SOCKET, sshEnv: { DOCKER_HOST: `unix://${SOCKET}` } },
      { name: 'eng-none' },
    ],
  });
  link.identityFile = lab.clientKeyPath;
  home = mkdtempSync(join(tmpdir(), 'outpost-engines-'));
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices[d.name] = await api.invoke('devices:add', { name: d.name, host: d.ip });
  await importBusyboxImage(lab.device('eng-dh'), 'outpost/busybox:lab');
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('finding the engine', () => {
  it('follows DOCKER_HOST from the device’s SSH environment, records it, and says where it looked when there is none', async () => {
    const ps = await api.invoke('workloads:ps', { devices: [devices['eng-dh']!.id, devices['eng-none']!.id], link });
    const [dh, none] = ps;
    expect(dh, JSON.stringify(dh)).toMatchObject({ ok: true, engine: { socket: SOCKET, source: 'DOCKER_HOST', product: 'docker' } });
    expect(none).toMatchObject({ ok: false, error: { kind: 'engine-not-found' } });
    for (const place of ['/var/run/docker.sock', '/var/run/balena-engine.sock', '/run/podman/podman.sock', '/run/user/0/docker.sock']) expect(none!.error!.message).toContain(place);

    const recorded = await api.invoke('devices:get', { id: devices['eng-dh']!.id });
    expect(recorded.docker?.engine).toMatchObject({ socket: SOCKET, source: 'DOCKER_HOST', product: 'docker', systemd: false });

    // Containers run on that engine like on any other.
    const out = await core.engines.call(recorded, async (e) => {
      const c = await e.docker.createContainer({ Image: 'outpost/busybox:lab', Cmd: ['echo', 'on the DOCKER_HOST engine'], HostConfig: { NetworkMode: 'none' } });
      await c.start();
      await c.wait();
      const logs = (await c.logs({ stdout: true })).toString('utf8');
      await c.remove();
      return logs;
    });
    expect(out).toContain('on the DOCKER_HOST engine');
  });

  it('a per-device socket setting comes first; the CLI shows what was found', async () => {
    const id = devices['eng-dh']!.id;
    await api.invoke('devices:update', { id, engineSocket: '/run/nothing/here.sock' });
    core.engines.forget(core.devices.get(id));
    // The setting is tried first, passed over (no socket there), and the search goes on to DOCKER_HOST.
    const [ps] = await api.invoke('workloads:ps', { devices: [id], link });
    expect(ps).toMatchObject({ ok: true, engine: { source: 'DOCKER_HOST' } });
    const found = core.devices.get(id).docker?.engine;
    expect(found?.tried).toEqual([{ socket: '/run/nothing/here.sock', source: 'setting', result: 'no socket there' }]);
    await api.invoke('devices:update', { id, engineSocket: SOCKET });
    core.engines.forget(core.devices.get(id));
    await api.invoke('workloads:ps', { devices: [id], link });
    expect(core.devices.get(id).docker?.engine).toMatchObject({ socket: SOCKET, source: 'setting' });

    const pass = join(home, 'passphrase');
    writeFileSync(pass, 'x\n', { mode: 0o600 });
    const r = spawnSync(process.execPath, [resolve(__dirname, '../../bin/outpost.mjs'), 'devices', 'show', 'eng-dh'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`engine:    docker`);
    expect(r.stdout).toContain(`at ${SOCKET} (setting`);
  });
});
