import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import type { DeployRecord, RolloutPhase } from '../../shared/contract/workloads';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';
import { buildImage } from './images';
import { DeployHistory } from '../../electron/core/workloads/history-repo';
import { buildLabImages, WEB_PORT, type LabImages } from './workloads-fixtures';

// Faults at every rollout step against a real dockerd 20.10 device: at each phase the test kills dockerd through the
// device's own init script, or cuts the SSH link (the bridge port down), then brings it back. Reconcile must settle it
// by itself; afterwards exactly one version runs, the one the history says, and — watched from inside the device the
// whole time — from `healthy` on the service is never without the new version's container. The service binds a fixed
// host port (host networking), the hard case: the old container is stopped, not running beside the candidate.
let lab: Lab;
let dev: LabDevice;
let core: Core;
let api: Api;
let device: Device;
let images: LabImages & { archives: Record<string, string> };
let home: string;
const link = { acceptNewHostKey: true, identityFile: '' };
const bin = resolve(__dirname, '../../bin/outpost.mjs');

const compose = (image: string) => `services:
  web:
    image: ${image}
    network_mode: host
`;

interface Sample {
  at: number;
  containers: Array<{ name: string; state: string; deployId: string }>;
}

/** Watches the service's containers from inside the device (not over the link under test) until stopped. */
function watchDevice() {
  const samples: Sample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const r = await dev.exec(['docker', 'ps', '-a', '--filter', 'label=outpost.service=web', '--format', '{{.Names}}|{{.State}}|{{.Label "outpost.deploy-id"}}']);
      // dockerd down: nothing to observe, the containers are records on its disk.
      if (r.code !== 0) continue;
      const containers = r.stdout.split('\n').filter(Boolean).map((l) => {
        const [name = '', state = '', deployId = ''] = l.split('|');
        return { name, state, deployId };
      });
      samples.push({ at: Date.now(), containers });
    }
  })();
  return {
    samples,
    stop: async () => {
      on = false;
      await loop;
    },
  };
}

async function serviceContainers() {
  const r = await dev.exec(['docker', 'ps', '-a', '--filter', 'label=outpost.service=web', '--format', '{{.Names}}|{{.State}}|{{.Label "outpost.deploy-id"}}']);
  expect(r.code).toBe(0);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('|'));
}

const pending = () => api.invoke('workloads:pending', { device: device.id });

/** Deploys the version not running now, with `fault` injected when the rollout reaches `phase`. */
async function deployWithFault(phase: RolloutPhase, fault: () => Promise<void>) {
  const running = await dev.exec(['docker', 'inspect', '-f', '{{.Image}}', 'web']);
  const target = running.stdout.trim() === core.workloads.cache.get(images.v1).id ? images.v2 : images.v1;
  let deployId = '';
  let healthyAt = Infinity;
  let faulted = false;
  const watch = watchDevice();
  const result = await core.workloads.deployer.deploy(
    { devices: [device.id], compose: { text: compose(target), name: 'compose.yml' }, link, healthTimeoutMs: 30_000 },
    {
      onPhase: async (p, record) => {
        deployId = record.id;
        if (p === 'healthy') healthyAt = Date.now();
        if (p === phase && !faulted) {
          faulted = true;
          await fault();
        }
      },
    },
  );
  return { result: result.results[0]!, deployId, healthyAt, watch, faulted, target };
}

/** After the fault is gone: settled by itself, one version runs, the history's, and never a gap after healthy. */
async function expectSettled(run: Awaited<ReturnType<typeof deployWithFault>>, phase: RolloutPhase, opts: { running?: boolean } = {}) {
  expect(run.faulted).toBe(true);
  // A technician's next look at the device reaches its engine: that alone settles what was left.
  await api.invoke('workloads:ps', { devices: [device.id], link, timeoutMs: 20_000 }).catch(() => undefined);
  await waitFor(`the rollout interrupted at ${phase} settled by itself`, async () => (await pending()).length === 0, 60_000);
  let seen: string[][] = [];
  await waitFor(`exactly one web container${opts.running === false ? '' : ', running'}`, async () => {
    seen = await serviceContainers();
    return seen.length === 1 && seen[0]![0] === 'web' && (opts.running === false || seen[0]![1] === 'running');
  }, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(seen)}`);
  });
  await run.watch.stop();

  const [last] = (await api.invoke('workloads:history', { device: device.id, limit: 1 })) as DeployRecord[];
  expect(last!.id).toBe(run.deployId);
  const forward = ['healthy', 'old-aside', 'promoted', 'done'].includes(phase);
  expect(last!.phase).toBe(forward ? 'done' : 'rolled-back');
  const [[, , runningDeploy]] = (await serviceContainers()) as [[string, string, string]];
  expect(runningDeploy).toBe(last!.phase === 'done' ? last!.id : last!.previousDeployId);

  // Every look at the device showed at least one complete version under a known name …
  const samples = run.watch.samples;
  expect(samples.length).toBeGreaterThan(0);
  for (const s of samples) expect(s.containers.some((c) => /^web(\.outpost-(old|next))?$/.test(c.name)), JSON.stringify(s)).toBe(true);
  // … and from `healthy` on, the new version's container was always there.
  const after = samples.filter((s) => s.at > run.healthyAt);
  for (const s of after) expect(s.containers.some((c) => c.deployId === run.deployId), JSON.stringify(s)).toBe(true);
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'flt', docker: true }] });
  dev = lab.device('flt');
  link.identityFile = lab.clientKeyPath;
  const work = mkdtempSync(join(tmpdir(), 'outpost-faults-'));
  images = await buildLabImages(dev, [dev], join(work, 'archives'), 4096);
  home = join(work, 'home');
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
  device = core.devices.add({ name: dev.name, host: dev.ip });
  for (const a of Object.values(images.archives)) await api.invoke('workloads:images-import', { path: a });
  const first = await api.invoke('workloads:deploy', { devices: [device.id], compose: { text: compose(images.v1), name: 'compose.yml' }, link, healthTimeoutMs: 30_000 });
  expect(first.results[0]!.value![0]!.phase).toBe('done');
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

const PHASES: RolloutPhase[] = ['started', 'old-stopped', 'new-started', 'healthy', 'old-aside', 'promoted', 'done'];

describe('dockerd killed at every rollout step', () => {
  for (const phase of PHASES) {
    it(`at ${phase}: settled by itself once dockerd is back`, async () => {
      const run = await deployWithFault(phase, () => dev.killDocker('SIGKILL'));
      if (phase !== 'done') expect(run.result.error?.kind).toBe('unreachable');
      await dev.startDocker();
      // Killed after `done`, nothing is left to settle. dockerd 20.10 without live-restore then shuts down the
      // containers containerd kept running and counts that as a manual stop, so `unless-stopped` does not bring the
      // finished service back: that is the engine's doing, after the rollout, and reconcile leaves it alone.
      await expectSettled(run, phase, { running: phase !== 'done' });
      // What a technician would do then; the next case starts from a running service again.
      if (phase === 'done') expect((await dev.exec(['docker', 'start', 'web'])).code).toBe(0);
    });
  }
});

describe('SSH link cut at every rollout step', () => {
  for (const phase of PHASES) {
    it(`at ${phase}: settled by itself once the link is back`, async () => {
      const run = await deployWithFault(phase, async () => {
        await dev.linkDown();
        // The laptop gives the dead link up at once (its keepalive would after ~15 s; one case below waits for it).
        core.engines.forget(device);
      });
      if (phase !== 'done') expect(run.result.error?.kind).toBe('unreachable');
      await dev.linkUp();
      await expectSettled(run, phase);
    });
  }

  it('a cut noticed only by the SSH keepalive, right after healthy: finished forward once the link is back', async () => {
    const run = await deployWithFault('healthy', () => dev.linkDown());
    expect(run.result.error?.kind).toBe('unreachable');
    await dev.linkUp();
    await expectSettled(run, 'healthy');
  });
});

describe('the engine reached by another path first', () => {
  it('after a restart, a first reach through the registry alone (not Workloads) settles the interrupted rollout, in the history', async () => {
    const run = await deployWithFault('new-started', () => dev.killDocker('SIGKILL'));
    await run.watch.stop();
    await core.close();
    await dev.startDocker();
    core = createCore({ dataDir: home, transport: 'in-process' });
    api = inProcessApi(core);
    // What a terminal, the PKI or a latency probe does: the Workloads service is not built, nothing asks it.
    expect(() => core.workloads).toThrow(/not built yet/);
    await core.engines.call(core.devices.get(device.id), (e) => e.docker.ping(), { link });
    const history = new DeployHistory(core.db);
    await waitFor('the interrupted rollout settled by itself', async () => history.get(run.deployId)?.record.phase === 'rolled-back', 60_000);
    expect(history.get(run.deployId)!.record.message).toMatch(/^reconciled: /);
    const containers = await serviceContainers();
    expect(containers.map(([name, state]) => [name, state])).toEqual([['web', 'running']]);
    expect(containers[0]![2]).toBe(history.get(run.deployId)!.record.previousDeployId);
  });
});

describe('another laptop settles it', () => {
  it('the app quits mid-rollout; `outpost reconcile` from a second laptop settles the device; the first laptop’s history follows', async () => {
    const run = await deployWithFault('new-started', () => dev.killDocker('SIGKILL'));
    await run.watch.stop();
    await core.close();
    await dev.startDocker();
    const other = mkdtempSync(join(tmpdir(), 'outpost-other-laptop-'));
    const cli = spawnSync(process.execPath, [bin, 'reconcile', dev.ip, '--identity', lab.clientKeyPath, '--yes', '--json'], { env: { ...process.env, OUTPOST_HOME: other }, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as DeployRecord[]).map((r) => [r.id, r.service, r.phase])).toEqual([[run.deployId, 'web', 'rolled-back']]);
    const again = spawnSync(process.execPath, [bin, 'reconcile', dev.ip, '--identity', lab.clientKeyPath, '--json'], { env: { ...process.env, OUTPOST_HOME: other }, encoding: 'utf8' });
    expect(JSON.parse(again.stdout)).toEqual([]);
    const missing = spawnSync(process.execPath, [bin, 'reconcile', 'no-such-gateway!', '--json'], { env: { ...process.env, OUTPOST_HOME: other }, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout).error.kind).toBe('invalid-input');

    core = createCore({ dataDir: home, transport: 'in-process' });
    api = inProcessApi(core);
    expect((await pending()).map((p) => p.record.id)).toEqual([run.deployId]);
    await api.invoke('workloads:ps', { devices: [device.id], link });
    await waitFor('the first laptop’s history following the device', async () => (await pending()).length === 0, 20_000);
    const [last] = await api.invoke('workloads:history', { device: device.id, limit: 1 });
    expect(last).toMatchObject({ id: run.deployId, phase: 'rolled-back', message: expect.stringMatching(/already settled/) });
  });
});

describe('cancel, and one operation per device', () => {
  const runningWeb = async () => (await serviceContainers()).filter(([, state]) => state === 'running');

  it('Ctrl-C on a CLI deploy mid-transfer: kind cancelled (exit 130), the service untouched; meanwhile a second deploy fails at once with kind busy naming the CLI', async () => {
    // An image the device does not have, big enough that the transfer over a slowed link takes a while.
    await buildImage(dev, 'outpost/app:big', { from: images.v1, files: { '/www/index.html': 'big\n', '/www/big.bin': randomBytes(3 * 1024 * 1024) }, cmd: ['/app/run.sh'], healthcheck: ['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${WEB_PORT}/`] });
    const archive = join(home, '..', 'big.tar');
    await pipeline((await new Docker({ socketPath: dev.dockerSocketHostPath }).getImage('outpost/app:big').get()) as unknown as Readable, createWriteStream(archive));
    expect((await dev.exec(['docker', 'rmi', 'outpost/app:big'])).code).toBe(0);
    await api.invoke('workloads:images-import', { path: archive });
    const composeFile = join(home, '..', 'big-compose.yml');
    writeFileSync(composeFile, compose('outpost/app:big'));
    const before = await runningWeb();
    expect(before).toHaveLength(1);
    const [lastBefore] = await api.invoke('workloads:history', { device: device.id, limit: 1 });

    await dev.rateLimit(2000); // ~250 kB/s: 3 MiB take ~12 s
    try {
      const child = spawn(process.execPath, [bin, 'deploy', dev.ip, '-f', composeFile, '--yes', '--json', '--identity', lab.clientKeyPath], { env: { ...process.env, OUTPOST_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      await waitFor(`the CLI deploy to hold ${dev.name} and send the image (stderr: ${stderr})`, async () => core.locks.list().some((l) => l.pid === child.pid && l.operation === 'deploy') && / MiB \/ /.test(stderr), 60_000);

      // The app (this process) tries the same device: refused at once, naming the holder.
      const started = Date.now();
      const second = await api.invoke('workloads:deploy', { devices: [device.id], compose: { text: compose(images.v1), name: 'compose.yml' }, link, healthTimeoutMs: 30_000 });
      const busyMs = Date.now() - started;
      expect(busyMs).toBeLessThan(10_000);
      expect(second.results[0]!.error).toMatchObject({ kind: 'busy', message: expect.stringContaining(`deploy by cli pid ${child.pid}`) });

      const cancelledAt = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      expect(code, `${stdout}\n${stderr}`).toBe(130);
      const cancelMs = Date.now() - cancelledAt;
      expect(cancelMs).toBeLessThan(5_000);
      expect(JSON.parse(stdout).results[0].error.kind).toBe('cancelled');
      console.log(`deploy: busy answered in ${busyMs} ms (plan included); Ctrl-C to CLI exit ${cancelMs} ms mid-transfer`);
    } finally {
      await dev.rateLimit(null);
    }
    // Nothing changed on the service: the same container runs, the history has no new rollout, no lock is left.
    expect(await runningWeb()).toEqual(before);
    const [lastAfter] = await api.invoke('workloads:history', { device: device.id, limit: 1 });
    expect(lastAfter!.id).toBe(lastBefore!.id);
    expect(core.locks.list()).toEqual([]);
  });

  /** Deploys the version not running now through the job (as the UI does) and cancels it when the rollout reaches `phase`. */
  async function deployCancelledAt(phase: RolloutPhase) {
    const running = await dev.exec(['docker', 'inspect', '-f', '{{.Image}}', 'web']);
    const target = running.stdout.trim() === core.workloads.cache.get(images.v1).id ? images.v2 : images.v1;
    const watch = watchDevice();
    let deployId = '';
    let healthyAt = Infinity;
    const off = api.on('workloads:rollout', (record) => {
      deployId = record.id;
      if (record.phase === 'healthy') healthyAt = Date.now();
      if (record.phase === phase) void api.invoke('jobs:cancel', { kind: 'deploy', deviceId: device.id });
    });
    try {
      const out = await api.invoke('workloads:deploy', { devices: [device.id], compose: { text: compose(target), name: 'compose.yml' }, link, healthTimeoutMs: 30_000 });
      return { result: out.results[0]!, deployId, healthyAt, watch, faulted: true, target };
    } finally {
      off();
    }
  }

  it('cancelled mid-rollout (candidate started, not yet healthy): undone, the old version runs, as the history says', async () => {
    const run = await deployCancelledAt('new-started');
    expect(run.result.error?.kind).toBe('cancelled');
    await expectSettled(run, 'new-started');
    expect(core.locks.list()).toEqual([]);
  });

  it('cancelled once the new version is healthy: finished, not undone; the new version runs, as the history says', async () => {
    const run = await deployCancelledAt('healthy');
    expect(run.result.ok).toBe(true);
    await expectSettled(run, 'healthy');
  });
});
