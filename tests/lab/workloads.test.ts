import { createReadStream, createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';
import { buildLabImages, httpGet, WEB_PORT, zipEntries, type LabImages } from './workloads-fixtures';

// Workloads against real dockerd 20.10 devices: offline cache, layer-delta transfer over a slow and a dropped link,
// health-gated rollout with rollback, dockerd killed mid-rollout, diagnostics, and a dead device in a fleet.
let lab: Lab;
let core: Core;
let api: Api;
let images: LabImages & { archives: Record<'v1' | 'v2' | 'bad', string> };
let work: string;
const devices: Record<string, Device> = {};
const link = { acceptNewHostKey: true, identityFile: '' };

const compose = (image: string, extra = '') => `services:
  web:
    image: ${image}
    environment:
      MODE: edge
      API_TOKEN: supersecret-value
    labels:
      outpost.latency-critical: "true"
${extra}`;


function lab_(name: string): LabDevice {
  return lab.device(name);
}

async function deploy(names: string[], text: string, healthTimeoutMs = 30_000) {
  return api.invoke('workloads:deploy', { devices: names.map((n) => devices[n]!.id), compose: { text, name: 'compose.yml' }, link, healthTimeoutMs });
}

beforeAll(async () => {
  lab = await startLab({ devices: ['wl-a', 'wl-b', 'wl-c'].map((name) => ({ name, docker: true })) });
  link.identityFile = lab.clientKeyPath;
  work = mkdtempSync(join(tmpdir(), 'outpost-workloads-'));
  images = await buildLabImages(lab_('wl-a'), lab.devices, join(work, 'archives'));
  core = createCore({ dataDir: join(work, 'home'), transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices[d.name] = core.devices.add({ name: d.name, host: d.ip });
  for (const a of Object.values(images.archives)) await api.invoke('workloads:images-import', { path: a });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('offline image cache', () => {
  it('holds the imported docker save archives, verified, with their layers shared', async () => {
    const list = await api.invoke('workloads:images-list', {});
    expect(list.map((i) => i.repoTags[0]).sort()).toEqual([images.bad, images.v1, images.v2].sort());
    const v2 = list.find((i) => i.repoTags.includes(images.v2))!;
    const v1 = list.find((i) => i.repoTags.includes(images.v1))!;
    expect(v2.layers.length).toBe(v1.layers.length + 1);
    expect(v2.layers.slice(0, v1.layers.length).map((l) => l.diffId)).toEqual(v1.layers.map((l) => l.diffId));
    expect((await api.invoke('workloads:images-verify', {})).every((r) => r.ok)).toBe(true);
  });

  it('rejects a real archive whose layer bytes were changed (integrity), traversal and a symlink out (invalid-input)', async () => {
    const tamper = async (out: string, change: (name: string, body: Buffer) => Buffer | null, extra: Array<{ name: string; type?: 'symlink'; linkname?: string; body?: string }> = []) => {
      const src = extract();
      const dst = pack();
      const writing = pipeline(dst, createWriteStream(out));
      const reading = pipeline(createReadStream(images.archives.v1), src);
      for await (const entry of src) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        const body = change(entry.header.name, Buffer.concat(chunks)) ?? Buffer.concat(chunks);
        dst.entry({ ...entry.header, size: body.length }, body);
      }
      for (const e of extra) dst.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
      await reading;
      dst.finalize();
      await writing;
      return out;
    };
    let first = true;
    const flipped = await tamper(join(work, 'flipped.tar'), (name, body) => {
      if (!name.endsWith('layer.tar') || !first) return null;
      first = false;
      return Buffer.concat([body, Buffer.alloc(512)]);
    });
    await expect(api.invoke('workloads:images-import', { path: flipped })).rejects.toMatchObject({ kind: 'integrity' });
    const traversal = await tamper(join(work, 'traversal.tar'), () => null, [{ name: '../../etc/cron.d/evil', body: '* * * * * root id' }]);
    await expect(api.invoke('workloads:images-import', { path: traversal })).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/climbs out/) });
    const symlink = await tamper(join(work, 'symlink.tar'), () => null, [{ name: 'x/layer.tar', type: 'symlink', linkname: '../../../etc/shadow' }]);
    await expect(api.invoke('workloads:images-import', { path: symlink })).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/out of the archive/) });
    expect((await api.invoke('workloads:images-list', {})).length).toBe(3);
  });
});

describe('deploy and upgrade', () => {
  it('a broken compose file fails with line:column before anything is sent', async () => {
    const text = compose(images.v1, '    mem_limit: plenty\n');
    await expect(deploy(['wl-b'], text)).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/^compose\.yml:9:16: services\.web\.mem_limit: /) });
  });

  it('deploys v1 to two devices with the edge defaults, sending only the layers they lack', async () => {
    const plan = await api.invoke('workloads:plan', { devices: [devices['wl-b']!.id, devices['wl-c']!.id], compose: { text: compose(images.v1), name: 'compose.yml' }, link, healthTimeoutMs: 30_000 });
    expect(plan.applied.map((a) => a.field)).toEqual(expect.arrayContaining(['restart', 'cap_drop', 'read_only', 'tmpfs', 'security_opt', 'mem_limit', 'logging', 'network_mode']));
    const v1 = core.workloads.cache.get(images.v1);
    // The busybox base is on every device already: only the library layer goes.
    for (const p of plan.devices) expect(p).toMatchObject({ layersTotal: 2, layersToSend: 1, bytesToSend: v1.layers[1]!.size });

    const { results } = await deploy(['wl-b', 'wl-c'], compose(images.v1));
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.value?.[0]).toMatchObject({ phase: 'done', imageId: v1.id });
      expect(r.value![0]!.bytesSent).toBeLessThan(v1.layers[1]!.size * 1.05);
    }
    for (const name of ['wl-b', 'wl-c']) {
      expect((await httpGet(lab_(name).ip, WEB_PORT)).body).toBe('v1\n');
      const info = await api.invoke('workloads:inspect', { device: devices[name]!.id, link, container: 'web' });
      const host = info.HostConfig as { ReadonlyRootfs: boolean; CapDrop: string[]; Memory: number; NetworkMode: string; SecurityOpt: string[]; RestartPolicy: { Name: string } };
      expect(host).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'], Memory: 256 * 1024 * 1024, NetworkMode: 'host', SecurityOpt: ['no-new-privileges:true'], RestartPolicy: { Name: 'unless-stopped' } });
      expect(JSON.stringify(info)).not.toContain('supersecret-value');
    }
  });

  it('upgrades over a rate-limited link sending about the changed top layer only', async () => {
    await lab_('wl-b').rateLimit(4000);
    const progress: number[] = [];
    const off = api.on('workloads:progress', (p) => {
      if (p.deviceId === devices['wl-b']!.id && p.phase === 'staging') progress.push(p.bytesPerSecond);
    });
    try {
      const { results } = await deploy(['wl-b'], compose(images.v2));
      const record = results[0]!.value![0]!;
      expect(record.phase).toBe('done');
      const top = core.workloads.cache.get(images.v2).layers.at(-1)!.size;
      expect(record.bytesSent / top).toBeGreaterThanOrEqual(1);
      expect(record.bytesSent / top).toBeLessThanOrEqual(1.05);
      expect(progress.length).toBeGreaterThan(0);
    } finally {
      off();
      await lab_('wl-b').rateLimit(null);
    }
    expect((await httpGet(lab_('wl-b').ip, WEB_PORT)).body).toBe('v2\n');
  });

  it('resumes a transfer after the link dropped mid-way', async () => {
    const dev = lab_('wl-c');
    await dev.rateLimit(300);
    let total = 0;
    let downed = false;
    const off = api.on('workloads:progress', (p) => {
      if (p.deviceId !== devices['wl-c']!.id || p.phase !== 'staging') return;
      total = p.bytesTotal;
      if (!downed && p.bytesSent > p.bytesTotal * 0.3) {
        downed = true;
        void dev.linkDown();
      }
    });
    try {
      const first = await deploy(['wl-c'], compose(images.v2));
      expect(downed, JSON.stringify(first.results)).toBe(true);
      expect(first.results[0]).toMatchObject({ ok: false, error: { kind: expect.stringMatching(/^(unreachable|timeout)$/) } });
      const partial = await dev.exec(['sh', '-c', 'stat -c %s /var/lib/outpost/staging/*.part']);
      const staged = Number(partial.stdout.trim());
      expect(staged).toBeGreaterThan(0);
      await dev.linkUp();
      await dev.rateLimit(null);
      const second = await deploy(['wl-c'], compose(images.v2));
      const record = second.results[0]!.value![0]!;
      expect(record.phase).toBe('done');
      // Only the rest went: the staged prefix was not sent again.
      expect(staged).toBeLessThan(total);
      expect(record.bytesSent).toBe(total - staged);
      expect((await httpGet(dev.ip, WEB_PORT)).body).toBe('v2\n');
    } finally {
      off();
      await dev.linkUp();
      await dev.rateLimit(null);
    }
  });
});

describe('health-gated rollout', () => {
  it('rolls back an unhealthy version while the old one keeps serving (service that can run twice)', async () => {
    const dev = lab_('wl-c');
    await dev.exec(['docker', 'network', 'create', 'outpost-lab']);
    const api1 = `services:\n  api:\n    image: ${images.v1}\n    network_mode: outpost-lab\n`;
    const first = await deploy(['wl-c'], api1);
    expect(first.results[0]!.value![0]!.phase).toBe('done');
    const before = await api.invoke('workloads:inspect', { device: devices['wl-c']!.id, link, container: 'api' });
    // An HTTP request inside the old container's own network namespace, addressed by ID (its name changes mid-rollout).
    const probe = async () => {
      const r = await dev.exec(['docker', 'exec', String(before.Id), 'wget', '-q', '-O', '-', `http://127.0.0.1:${WEB_PORT}/`]);
      return r.code === 0 ? r.stdout : `exit ${r.code}: ${r.stderr.trim()}`;
    };
    expect(await probe()).toBe('v1\n');

    let probing = true;
    const answers: string[] = [];
    const prober = (async () => {
      while (probing) answers.push(await probe());
    })();
    const bad = await deploy(['wl-c'], api1.replace(images.v1, images.bad), 20_000);
    probing = false;
    await prober;
    expect(bad.results[0]!.value![0]).toMatchObject({ phase: 'rolled-back', message: expect.stringMatching(/healthcheck failed|not ready/) });
    expect(answers.length).toBeGreaterThan(3);
    expect(new Set(answers)).toEqual(new Set(['v1\n']));
    const after = await api.invoke('workloads:inspect', { device: devices['wl-c']!.id, link, container: 'api' });
    expect(after.Id).toBe(before.Id);
    const [ps] = await api.invoke('workloads:ps', { devices: [devices['wl-c']!.id], link });
    expect(ps!.value!.filter((c) => c.service === 'api').map((c) => c.name)).toEqual(['api']);
  });

  it('with fixed host ports, stops the old one, and restarts it when the new one is unhealthy', async () => {
    const bad = await deploy(['wl-b'], compose(images.bad), 20_000);
    expect(bad.results[0]!.value![0]!.phase).toBe('rolled-back');
    const history = await api.invoke('workloads:history', { device: devices['wl-b']!.id, limit: 1 });
    expect(history[0]!.phase).toBe('rolled-back');
    const steps = core.workloads.history.steps(history[0]!.id).map((s) => s.phase);
    expect(steps).toEqual(['started', 'old-stopped', 'new-started', 'rolling-back', 'rolled-back']);
    await waitFor('web on wl-b answering v2 again', async () => (await httpGet(lab_('wl-b').ip, WEB_PORT).catch(() => ({ body: '' }))).body === 'v2\n', 15_000);
    // The device keeps its own record for a later session.
    const state = await lab_('wl-b').exec(['cat', '/var/lib/outpost/deploys/web.json']);
    expect(JSON.parse(state.stdout).record.phase).toBe('rolled-back');
  });

  it('dockerd killed mid-rollout: once the engine is back, reconcile runs by itself and leaves exactly one version running', async () => {
    const dev = lab_('wl-b');
    const device = devices['wl-b']!.id;
    const off = api.on('workloads:rollout', (r) => {
      if (r.deviceId === device && r.phase === 'new-started') void dev.killDocker('SIGKILL');
    });
    const interrupted = await deploy(['wl-b'], compose(images.bad), 20_000).finally(off);
    expect(interrupted.results[0]!.ok).toBe(false);
    const [left] = await api.invoke('workloads:pending', { device });
    expect(left).toMatchObject({ service: 'web', inProgress: false, resolution: 'undo' });
    await dev.startDocker();
    await waitFor('the interrupted rollout settled by itself', async () => (await api.invoke('workloads:pending', { device })).length === 0, 40_000);
    const [last] = await api.invoke('workloads:history', { device, limit: 1 });
    expect(last).toMatchObject({ id: left!.record.id, phase: 'rolled-back', message: expect.stringMatching(/^reconciled: /) });
    expect(await api.invoke('workloads:reconcile', { device, link })).toEqual([]);
    const [ps] = await api.invoke('workloads:ps', { devices: [device], link });
    const web = ps!.value!.filter((c) => c.service === 'web' || c.name.startsWith('web'));
    expect(web.map((c) => [c.name, c.state])).toEqual([['web', 'running']]);
    expect(web[0]!.imageId).toBe(core.workloads.cache.get(images.v2).id);
    await waitFor('web on wl-b serving v2 after reconcile', async () => (await httpGet(dev.ip, WEB_PORT).catch(() => ({ body: '' }))).body === 'v2\n', 20_000);
  });

  it('rollback goes back to the previous successful version', async () => {
    const record = await api.invoke('workloads:rollback', { device: devices['wl-b']!.id, service: 'web', link });
    expect(record).toMatchObject({ phase: 'done', imageId: core.workloads.cache.get(images.v1).id });
    expect((await httpGet(lab_('wl-b').ip, WEB_PORT)).body).toBe('v1\n');
  });
});

describe('diagnostics', () => {
  it('ps, logs, stats, facts and a redacted support bundle from running containers', async () => {
    const id = devices['wl-c']!.id;
    await httpGet(lab_('wl-c').ip, WEB_PORT, '/no-such-page').catch(() => undefined);
    const [ps] = await api.invoke('workloads:ps', { devices: [id], link });
    const web = ps!.value!.find((c) => c.name === 'web')!;
    expect(web).toMatchObject({ state: 'running', health: 'healthy', restarts: 0, service: 'web' });
    expect(web.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const stats = await api.invoke('workloads:stats', { device: id, link, container: 'web' });
    expect(stats.memoryLimitBytes).toBe(256 * 1024 * 1024);
    expect(stats.memoryBytes).toBeGreaterThan(0);
    const facts = await api.invoke('workloads:facts', { device: id, link });
    expect((facts.engine as { ServerVersion: string }).ServerVersion).toMatch(/^20\.10/);
    expect(Math.abs(facts.clockSkewMs)).toBeLessThan(2000);
    expect(facts.loadAverage).toMatch(/^\d+\.\d+ /);

    const out = join(work, 'bundle.zip');
    const bundle = await api.invoke('workloads:bundle', { device: id, link, out });
    const entries = await zipEntries(out);
    expect(Object.keys(entries)).toEqual(expect.arrayContaining(['containers.json', 'facts.json', 'containers/web/inspect.json', 'containers/web/logs.txt', 'deploy-history.json', 'device-deploy-history.jsonl']));
    expect(bundle.entries.length).toBe(Object.keys(entries).length);
    expect(JSON.stringify(entries)).not.toContain('supersecret-value');
    expect(entries['containers/web/inspect.json']).toContain('API_TOKEN=«redacted»');
    expect(entries['deploy-history.json']).toContain('rolled-back');
  });

  it('follows logs as a stream of events', async () => {
    const id = devices['wl-c']!.id;
    const got: string[] = [];
    const off = api.on('workloads:stream', (e) => got.push(e.data));
    const { streamId } = await api.invoke('workloads:follow', { device: id, link, kind: 'events' });
    await api.invoke('workloads:stats', { device: id, link, container: 'web' });
    await lab_('wl-c').exec(['docker', 'restart', 'api']);
    await waitFor('a docker event about the api container', async () => got.join('').includes('"restart"') || got.join('').includes('"start"'), 15_000);
    expect((await api.invoke('workloads:unfollow', { streamId })).stopped).toBe(true);
    off();
  });

  it('one unreachable device in a fleet of three: the others are still listed', async () => {
    const dead = lab_('wl-a');
    await dead.linkDown();
    try {
      core.engines.forget(devices['wl-a']!);
      const results = await api.invoke('workloads:ps', { devices: ['wl-a', 'wl-b', 'wl-c'].map((n) => devices[n]!.id), link, timeoutMs: 3000 });
      const byName = Object.fromEntries(results.map((r) => [r.deviceName, r]));
      expect(byName['wl-a']).toMatchObject({ ok: false, error: { kind: expect.stringMatching(/^(unreachable|timeout)$/) } });
      expect(byName['wl-b']!.ok).toBe(true);
      expect(byName['wl-c']!.value!.some((c) => c.name === 'web')).toBe(true);
    } finally {
      await dead.linkUp();
    }
  });
});
