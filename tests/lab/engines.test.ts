import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api, Device } from '../../shared/contract';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import { startLab, waitFor, type Lab } from './lab';
import { buildLabImages, httpGet, WEB_PORT, zipEntries, type LabImages } from './workloads-fixtures';

// The engine where the device keeps it: a dockerd listening only on a socket that sshd announces through
// DOCKER_HOST (SetEnv), Debian's Podman (`podman system service`, vfs storage, no systemd) instead of dockerd, and a
// device with no engine at all. Every Workloads feature runs on both engines.
let lab: Lab;
let core: Core;
let api: Api;
let home: string;
let images: LabImages & { archives: Record<'v1' | 'v2' | 'bad', string> };
const devices: Record<string, Device> = {};
const link = { acceptNewHostKey: true, identityFile: '' };
const SOCKET = '/var/run/engine/docker.sock';

beforeAll(async () => {
  lab = await startLab({
    devices: [
      { name: 'eng-dh', docker: true, dockerSocket: SOCKET, sshEnv: { DOCKER_HOST: `unix://${SOCKET}` } },
      { name: 'eng-pm', podman: true },
      { name: 'eng-none' },
    ],
  });
  link.identityFile = lab.clientKeyPath;
  home = mkdtempSync(join(tmpdir(), 'outpost-engines-'));
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices[d.name] = await api.invoke('devices:add', { name: d.name, host: d.ip });
  // Built on the DOCKER_HOST device; every engine gets the busybox base (Podman through its Docker API).
  images = await buildLabImages(lab.device('eng-dh'), [lab.device('eng-dh'), lab.device('eng-pm')], join(home, 'archives'), 64 * 1024);
  for (const a of Object.values(images.archives)) await api.invoke('workloads:images-import', { path: a });
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
    // The device's details keep where Outpost looked (the drawer and `devices show` list it).
    const missing = (await api.invoke('devices:get', { id: devices['eng-none']!.id })).docker?.engineNotFound;
    expect(missing?.tried.map((t) => t.socket)).toEqual(['/var/run/docker.sock', '/var/run/balena-engine.sock', '/run/podman/podman.sock', '/run/user/0/docker.sock', '/run/user/0/podman/podman.sock']);
    expect(missing?.tried.every((t) => t.result === 'no socket there')).toBe(true);

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

  it('reaches a recorded engine directly the next time (no probe), and looks again in full once it no longer answers there', async () => {
    const id = devices['eng-dh']!.id;
    const before = core.devices.get(id).docker?.engine;
    expect(before).toMatchObject({ socket: SOCKET, source: 'DOCKER_HOST' });
    // A new link (as in a new CLI process): the record is used as it is, so when it was found stays the same.
    core.engines.forget(core.devices.get(id));
    const [again] = await api.invoke('workloads:ps', { devices: [id], link });
    expect(again).toMatchObject({ ok: true, engine: { socket: SOCKET, source: 'DOCKER_HOST' } });
    expect(core.devices.get(id).docker?.engine?.foundAt).toBe(before!.foundAt);
    // Confirmed by a /_ping whose headers name the engine: a record of another version (the engine was upgraded since)
    // is not taken on trust — /version is asked and the version that answers recorded, at the same place.
    const stale = core.devices.get(id);
    core.devices.save({ ...stale, docker: { ...stale.docker, engine: { ...before!, version: '19.03.0', apiVersion: '1.40' } } });
    core.engines.forget(core.devices.get(id));
    const [upgraded] = await api.invoke('workloads:ps', { devices: [id], link });
    expect(upgraded).toMatchObject({ ok: true, engine: { socket: SOCKET, source: 'DOCKER_HOST', version: before!.version } });
    expect(core.devices.get(id).docker?.engine).toMatchObject({ version: before!.version, apiVersion: before!.apiVersion, foundAt: before!.foundAt });
    // Podman's ping names it too (Libpod): a recorded Podman is reached directly as well.
    const pm = devices['eng-pm']!.id;
    const [pmFirst] = await api.invoke('workloads:ps', { devices: [pm], link });
    expect(pmFirst).toMatchObject({ ok: true, engine: { product: 'podman' } });
    const pmFound = core.devices.get(pm).docker?.engine;
    core.engines.forget(core.devices.get(pm));
    const [pmAgain] = await api.invoke('workloads:ps', { devices: [pm], link });
    expect(pmAgain).toMatchObject({ ok: true, engine: { product: 'podman', version: pmFound!.version } });
    expect(core.devices.get(pm).docker?.engine?.foundAt).toBe(pmFound!.foundAt);
    // A record that no longer holds (the engine moved): the device is asked again and the new place recorded.
    const current = core.devices.get(id);
    core.devices.save({ ...current, docker: { ...current.docker, engine: { ...before!, socket: '/var/run/docker.sock', source: 'docker' } } });
    core.engines.forget(core.devices.get(id));
    const [moved] = await api.invoke('workloads:ps', { devices: [id], link });
    expect(moved).toMatchObject({ ok: true, engine: { socket: SOCKET, source: 'DOCKER_HOST' } });
    expect(core.devices.get(id).docker?.engine?.foundAt).not.toBe(before!.foundAt);
  });

  it('a per-device socket setting comes first; the CLI shows what was found', async () => {
    const id = devices['eng-dh']!.id;
    await api.invoke('workloads:ps', { devices: [id], link });
    await api.invoke('devices:update', { id, engineSocket: '/run/nothing/here.sock' });
    // A new setting is looked for at once (the client already connected is not kept); it is tried first, passed over (no socket there), and the search goes on to DOCKER_HOST.
    const [ps] = await api.invoke('workloads:ps', { devices: [id], link });
    expect(ps).toMatchObject({ ok: true, engine: { source: 'DOCKER_HOST' } });
    const found = core.devices.get(id).docker?.engine;
    expect(found?.tried).toEqual([{ socket: '/run/nothing/here.sock', source: 'setting', result: 'no socket there' }]);
    await api.invoke('devices:update', { id, engineSocket: SOCKET });
    expect(await api.invoke('workloads:locate-engine', { device: id, link })).toMatchObject({ socket: SOCKET, source: 'setting', product: 'docker' });
    expect(core.devices.get(id).docker?.engine).toMatchObject({ socket: SOCKET, source: 'setting' });

    const pass = join(home, 'passphrase');
    writeFileSync(pass, 'x\n', { mode: 0o600 });
    const r = spawnSync(process.execPath, [resolve(__dirname, '../../bin/outpost.mjs'), 'devices', 'show', 'eng-dh'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`engine:    docker`);
    expect(r.stdout).toContain(`at ${SOCKET} (setting`);

    // Cleared from the CLI, and looked for again from the CLI: the usual search (DOCKER_HOST).
    const cli = (...args: string[]) => spawnSync(process.execPath, [resolve(__dirname, '../../bin/outpost.mjs'), ...args], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
    const cleared = cli('devices', 'update', 'eng-dh', '--no-engine-socket', '--json');
    expect(cleared.status, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout).docker?.socket).toBeUndefined();
    const located = cli('devices', 'locate-engine', 'eng-dh', '--identity', lab.clientKeyPath, '--json');
    expect(located.status, located.stderr).toBe(0);
    expect(JSON.parse(located.stdout)).toMatchObject({ socket: SOCKET, source: 'DOCKER_HOST', product: 'docker' });
    const [again] = await api.invoke('workloads:ps', { devices: [id], link });
    expect(again).toMatchObject({ ok: true, engine: { socket: SOCKET, source: 'DOCKER_HOST' } });

    // None answering, from the CLI: kind engine-not-found, and `devices show` lists every place tried.
    const none = cli('devices', 'locate-engine', 'eng-none', '--identity', lab.clientKeyPath, '--json');
    expect(none.status).not.toBe(0);
    expect(JSON.parse(none.stdout).error.kind).toBe('engine-not-found');
    const shown = cli('devices', 'show', 'eng-none');
    expect(shown.stdout).toMatch(/no engine answered at .*; tried:\n {2}\/var\/run\/docker\.sock \(docker\): no socket there\n/);
  });

  it('`outpost ps` logs in once per device: the dial started while the CLI loads is the one the listing uses', async () => {
    const logins = async (name: string) => ((await lab.device(name).exec(['cat', '/var/log/sshd.log'])).stdout.match(/Accepted publickey for /g) ?? []).length;
    const before = [await logins('eng-dh'), await logins('eng-pm')];
    const r = spawnSync(process.execPath, [resolve(__dirname, '../../bin/outpost.mjs'), 'ps', 'eng-dh', 'eng-pm', '--identity', lab.clientKeyPath, '--json'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ ok: boolean }>).map((d) => d.ok)).toEqual([true, true]);
    expect([await logins('eng-dh'), await logins('eng-pm')]).toEqual([before[0]! + 1, before[1]! + 1]);
  });
});

const compose = (image: string) => `services:
  web:
    image: ${image}
    network_mode: host
    environment:
      API_TOKEN: supersecret-value
`;

describe.each([
  ['eng-dh', 'docker', 'DOCKER_HOST'],
  ['eng-pm', 'podman', 'podman'],
] as const)('every Workloads feature on %s (%s)', (name, product, source) => {
  const deploy = (image: string, healthTimeoutMs = 60_000) =>
    api.invoke('workloads:deploy', { devices: [devices[name]!.id], compose: { text: compose(image), name: 'compose.yml' }, link, healthTimeoutMs });
  const serving = (body: string) => waitFor(`web on ${name} serving ${body.trim()}`, async () => (await httpGet(lab.device(name).ip, WEB_PORT).catch(() => ({ body: '' }))).body === body, 20_000);

  it('deploys, gated on the healthcheck (Outpost runs it where the engine cannot), and finds the engine where it lives', async () => {
    const { results } = await deploy(images.v1);
    const record = results[0]!.value?.[0];
    expect(record, JSON.stringify(results)).toMatchObject({ phase: 'done', imageId: core.workloads.cache.get(images.v1).id });
    await serving('v1\n');
    const found = core.devices.get(devices[name]!.id).docker?.engine;
    expect(found).toMatchObject({ product, source, systemd: false });
    const steps = core.workloads.history.steps(record!.id);
    const healthy = steps.find((s) => s.phase === 'healthy')!;
    if (product === 'podman') {
      expect(healthy.message).toMatch(/Podman on a device without systemd never runs healthchecks .* so Outpost runs it itself/);
      // Podman 4.3 loads only whole archives: the partial one (the base is on the device) is refused, the whole image
      // follows, and the record says so; both count in the bytes sent.
      expect(record!.message).toMatch(/ — Podman refused the partial archive \(payload does not match any of the supported image formats\); sent the whole image instead$/);
      const v1 = core.workloads.cache.get(images.v1).layers;
      expect(record!.bytesSent).toBeGreaterThan(v1.reduce((n, l) => n + l.size, 0));
    } else expect(healthy.message).not.toMatch(/Outpost runs it/);
    const [ps] = await api.invoke('workloads:ps', { devices: [devices[name]!.id], link });
    expect(ps).toMatchObject({ ok: true, engine: { product } });
    expect(ps!.value!.find((c) => c.name === 'web')).toMatchObject({ state: 'running', service: 'web', health: product === 'podman' ? 'not run (no systemd for Podman)' : 'healthy' });
  });

  it('upgrades sending only the changed top layer, or says why it sent the whole image', async () => {
    const { results } = await deploy(images.v2);
    const record = results[0]!.value?.[0];
    expect(record, JSON.stringify(results)).toMatchObject({ phase: 'done', imageId: core.workloads.cache.get(images.v2).id });
    const v2 = core.workloads.cache.get(images.v2);
    const top = v2.layers.at(-1)!.size;
    if (product === 'podman') {
      // Refused at the first deploy, remembered: the whole image goes at once, no partial archive first.
      expect(record!.message).toMatch(/ — this Podman refused a partial archive earlier, so the whole image was sent$/);
      const whole = v2.layers.reduce((n, l) => n + l.size, 0);
      expect(record!.bytesSent).toBeGreaterThanOrEqual(whole);
      expect(record!.bytesSent).toBeLessThan(whole * 1.1);
    } else {
      // The DOCKER_HOST device built the images, so nothing needs to go (delta transfer itself: workloads.test.ts).
      expect(record!.bytesSent / top).toBeLessThanOrEqual(1.05);
    }
    await serving('v2\n');
  });

  it('logs, stats, facts and the support bundle', async () => {
    const id = devices[name]!.id;
    const { lines } = await api.invoke('workloads:logs', { device: id, link, container: 'web', tail: 50 });
    expect(lines.join('\n')).toContain('web: serving v2');
    const stats = await api.invoke('workloads:stats', { device: id, link, container: 'web' });
    expect(stats.memoryBytes).toBeGreaterThan(0);
    const facts = await api.invoke('workloads:facts', { device: id, link });
    expect((facts.engine as { ServerVersion?: string }).ServerVersion).toBe(core.devices.get(id).docker?.engine?.version);
    const out = join(home, `bundle-${name}.zip`);
    await api.invoke('workloads:bundle', { device: id, link, out });
    const entries = await zipEntries(out);
    expect(Object.keys(entries)).toEqual(expect.arrayContaining(['containers.json', 'facts.json', 'containers/web/inspect.json', 'containers/web/logs.txt']));
    expect(JSON.stringify(entries)).not.toContain('supersecret-value');
  });

  it('an unhealthy version is rolled back, and rollback returns to the previous version', async () => {
    const bad = await deploy(images.bad, 20_000);
    expect(bad.results[0]!.value?.[0], JSON.stringify(bad.results)).toMatchObject({ phase: 'rolled-back', message: expect.stringMatching(/healthcheck/) });
    if (product === 'podman') {
      // Refused once, remembered: the whole image goes at once, no partial archive first.
      const record = bad.results[0]!.value![0]!;
      expect(record.message).toMatch(/ — this Podman refused a partial archive earlier, so the whole image was sent$/);
      const whole = core.workloads.cache.get(images.bad).layers.reduce((n, l) => n + l.size, 0);
      expect(record.bytesSent).toBeLessThan(whole * 1.1);
    }
    await serving('v2\n');
    const back = await api.invoke('workloads:rollback', { device: devices[name]!.id, service: 'web', link });
    expect(back).toMatchObject({ phase: 'done', imageId: core.workloads.cache.get(images.v1).id });
    await serving('v1\n');
  });
});
