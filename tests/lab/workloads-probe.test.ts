import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import type { DeployRecord } from '../../shared/contract/workloads';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';
import { buildLabImages, httpGet, type LabImages } from './workloads-fixtures';

// Readiness probes from the laptop (`outpost.probe` label, for services without a Docker healthcheck) against a real
// dockerd 20.10 lab device: the rollout waits for a 2xx from the probed path, rolls back a candidate whose probe never
// answers (the previous version serves again, the history says which probe failed), and a TCP probe gates on the
// port being open. The lab images carry a HEALTHCHECK; the compose file disables it so the probe is what decides.
let lab: Lab;
let core: Core;
let api: Api;
let dev: LabDevice;
let device: Device;
let images: LabImages;
const link = { acceptNewHostKey: true, identityFile: '' };

const PORT = 8090;
const SERVICE = 'web';
const CANDIDATE = `${SERVICE}.outpost-next`;
// busybox httpd on host networking, serving from the tmpfs /tmp (the root is read-only) so a test can change what the
// probed path answers; -vvv logs every connection and response, prefixed with the client's address. httpd as pid 1
// would ignore docker stop's SIGTERM (10 s until SIGKILL on every fixed-port rollout): sh stays pid 1 and exits on it.
const serve = (before = '') => `trap 'exit 0' TERM; ${before}mkdir -p /tmp/www && cp /www/index.html /tmp/www/ && httpd -f -vvv -p ${PORT} -h /tmp/www & wait`;

const compose = (image: string, probe: string, command = serve()) => `services:
  ${SERVICE}:
    image: ${image}
    command: ["sh", "-c", ${JSON.stringify(command)}]
    healthcheck:
      disable: true
    labels:
      outpost.latency-critical: "true"
      outpost.probe: "${probe}"
`;

/** A deploy left running while the test watches it; never an unhandled rejection. */
function startDeploy(text: string, healthTimeoutMs: number) {
  const state: { done: boolean; records?: DeployRecord[]; error?: unknown } = { done: false };
  const settled = api.invoke('workloads:deploy', { devices: [device.id], compose: { text, name: 'compose.yml' }, link, healthTimeoutMs }).then(
    ({ results }) => {
      const [r] = results;
      Object.assign(state, r?.value ? { records: r.value } : { error: new Error(`deploy failed: ${JSON.stringify(r)}`) });
    },
    (err: unknown) => Object.assign(state, { error: err }),
  ).finally(() => (state.done = true));
  return {
    state,
    /** Resolves once the deploy ended, whatever the outcome (bounded by healthTimeoutMs). */
    settled,
    record: async (): Promise<DeployRecord> => {
      await settled;
      if (state.error !== undefined || !state.records?.[0]) throw state.error ?? new Error('deploy returned no record');
      return state.records[0];
    },
  };
}

/** Rollout phases of `web` on the device, as announced, while a deploy runs. */
function watchPhases(): { phases: string[]; off: () => void } {
  const phases: string[] = [];
  const off = api.on('workloads:rollout', (r) => {
    if (r.deviceId === device.id && r.service === SERVICE) phases.push(r.phase);
  });
  return { phases, off };
}

/** What busybox httpd in `container` logged about connections from the laptop (the address prefix stripped). */
async function fromLaptop(container: string): Promise<string[]> {
  const r = await dev.exec(['docker', 'logs', container]);
  // httpd listens on [::]: an IPv4 client shows as [::ffff:10.213.0.1]:port.
  const prefix = new RegExp(`^\\[?(?:::ffff:)?${lab.techIp.replaceAll('.', '\\.')}\\]?:\\d+: `);
  return `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => prefix.test(l))
    .map((l) => l.replace(prefix, '').trim());
}

const count = (lines: string[], line: string) => lines.filter((l) => l === line).length;

async function serving(body: string): Promise<void> {
  await waitFor(`${SERVICE} on ${dev.name} serving ${JSON.stringify(body)}`, async () => (await httpGet(dev.ip, PORT, '/index.html').catch(() => ({ body: '' }))).body === body, 15_000);
}

async function onlyService(imageRef: string): Promise<void> {
  const [ps] = await api.invoke('workloads:ps', { devices: [device.id], link });
  const web = ps!.value!.filter((c) => c.service === SERVICE || c.name.startsWith(SERVICE));
  expect(web.map((c) => [c.name, c.state, c.imageId])).toEqual([[SERVICE, 'running', core.workloads.cache.get(imageRef).id]]);
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'probe-a', docker: true }] });
  dev = lab.device('probe-a');
  link.identityFile = lab.clientKeyPath;
  const work = mkdtempSync(join(tmpdir(), 'outpost-workloads-probe-'));
  const built = await buildLabImages(dev, lab.devices, join(work, 'archives'), 4096);
  images = built;
  core = createCore({ dataDir: join(work, 'home'), transport: 'in-process' });
  api = inProcessApi(core);
  device = core.devices.add({ name: dev.name, host: dev.ip });
  for (const a of [built.archives.v1, built.archives.v2]) await api.invoke('workloads:images-import', { path: a });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('readiness probe from the laptop (outpost.probe)', () => {
  it('http: the rollout waits through 404 and 302 answers and finishes only once the probed path answers 2xx', async () => {
    const watch = watchPhases();
    const run = startDeploy(compose(images.v1, `http:${PORT}/ready`), 30_000);
    try {
      // The candidate serves, but /ready does not exist yet: the laptop's probe gets 404s. Two of them mean the first
      // 404 was judged "not ready" and the rollout polled again.
      await waitFor('two 404 answers to the laptop probe', async () => run.state.done || count(await fromLaptop(CANDIDATE), 'response:404') >= 2, 15_000);
      expect(run.state.done).toBe(false);
      expect(watch.phases).not.toContain('healthy');
      const served = await httpGet(dev.ip, PORT, '/index.html');
      expect(served).toEqual({ status: 200, body: 'v1\n' });

      // /ready as a directory: busybox redirects to /ready/ (302), which is not a 2xx either.
      expect((await dev.exec(['docker', 'exec', CANDIDATE, 'mkdir', '/tmp/www/ready'])).code).toBe(0);
      await waitFor('two 302 answers to the laptop probe', async () => run.state.done || count(await fromLaptop(CANDIDATE), 'response:302') >= 2, 15_000);
      expect(run.state.done).toBe(false);
      expect(watch.phases).not.toContain('healthy');

      const made = await dev.exec(['docker', 'exec', CANDIDATE, 'sh', '-c', 'rmdir /tmp/www/ready && echo ready > /tmp/www/ready']);
      expect(made.code, made.stderr).toBe(0);
      const record = await run.record();
      expect(record).toMatchObject({ phase: 'done', imageId: core.workloads.cache.get(images.v1).id });
      expect(core.workloads.history.steps(record.id).map((s) => s.phase)).toEqual(['started', 'new-started', 'healthy', 'promoted', 'done']);
      // The probe that let it through was a 200 from the laptop for the probed path.
      const log = await fromLaptop(SERVICE);
      expect(log).toContain('url:/ready');
      expect(count(log, 'response:200')).toBeGreaterThanOrEqual(1);
      expect(await httpGet(dev.ip, PORT, '/ready')).toEqual({ status: 200, body: 'ready\n' });
      await onlyService(images.v1);
    } finally {
      await run.settled; // a failed assertion must not leave a rollout running into the next test
      watch.off();
    }
  });

  it('http: a probed path that keeps answering 404 is rolled back, the previous version serves again, history names the probe', async () => {
    const record = await startDeploy(compose(images.v2, `http:${PORT}/never-there`), 3000).record();
    expect(record.phase).toBe('rolled-back');
    expect(record.message).toContain(`http:${PORT}/never-there`);
    expect(record.message).toContain('answered HTTP 404');
    const [last] = await api.invoke('workloads:history', { device: device.id, limit: 1 });
    expect(last).toMatchObject({ id: record.id, phase: 'rolled-back', message: record.message, imageId: core.workloads.cache.get(images.v2).id });
    // Host networking binds a fixed port: the old one was stopped for the candidate and started again after it.
    expect(core.workloads.history.steps(record.id).map((s) => s.phase)).toEqual(['started', 'old-stopped', 'new-started', 'rolling-back', 'rolled-back']);
    await serving('v1\n');
    await onlyService(images.v1);
    const state = await dev.exec(['cat', `/var/lib/outpost/deploys/${SERVICE}.json`]);
    expect(JSON.parse(state.stdout).record).toMatchObject({ phase: 'rolled-back', message: record.message });
  });

  it('tcp: a probe port where nothing listens is rolled back with the probe named in the history', async () => {
    const record = await startDeploy(compose(images.v2, 'tcp:8099'), 3000).record();
    expect(record.phase).toBe('rolled-back');
    expect(record.message).toContain('tcp:8099');
    expect(record.message).toContain(`connect ECONNREFUSED ${dev.ip}:8099`);
    const [last] = await api.invoke('workloads:history', { device: device.id, limit: 1 });
    expect(last).toMatchObject({ id: record.id, phase: 'rolled-back', message: record.message });
    await serving('v1\n');
    await onlyService(images.v1);
  });

  it('tcp: the rollout finishes once the probed port accepts connections from the laptop', async () => {
    const watch = watchPhases();
    // The candidate starts listening only when the test says so.
    const run = startDeploy(compose(images.v2, `tcp:${PORT}`, serve('until [ -e /tmp/go ]; do sleep 0.1; done; ')), 30_000);
    try {
      await waitFor('the candidate started', async () => run.state.done || watch.phases.includes('new-started'), 15_000);
      expect(run.state.done).toBe(false);
      await waitFor('the candidate up and not listening', async () => (await dev.exec(['docker', 'exec', CANDIDATE, 'true'])).code === 0, 10_000);
      expect(watch.phases).not.toContain('healthy');
      const released = Date.now();
      expect((await dev.exec(['docker', 'exec', CANDIDATE, 'touch', '/tmp/go'])).code).toBe(0);
      const record = await run.record();
      expect(record).toMatchObject({ phase: 'done', imageId: core.workloads.cache.get(images.v2).id });
      const steps = core.workloads.history.steps(record.id);
      expect(steps.map((s) => s.phase)).toEqual(['started', 'old-stopped', 'new-started', 'healthy', 'old-aside', 'promoted', 'done']);
      expect(Date.parse(steps.find((s) => s.phase === 'healthy')!.at)).toBeGreaterThanOrEqual(released);
      // The connection that let it through came from the laptop.
      expect(await fromLaptop(SERVICE)).toContain('connected');
      await serving('v2\n');
      await onlyService(images.v2);
    } finally {
      await run.settled; // a failed assertion must not leave a rollout running into the next test
      watch.off();
    }
  });
});
