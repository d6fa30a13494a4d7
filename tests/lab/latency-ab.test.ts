import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/program';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { AbReport, Api, Device } from '../../shared/contract';
import { importBusyboxImage, startLab, waitFor, type Lab, type LabDevice } from './lab';

// The latency lab on a real dockerd 20.10 lab device (--bridge=none --iptables=false): variants of one busybox httpd
// deployed in turn through the Workloads path and probed the same way. Host networking vs a user-defined bridge
// network (created inside the device's namespace) with a published port, served by Docker's userland proxy since the
// daemon has no iptables; and, beside a CPU-hog neighbour pinned to CPU 0, the web service unpinned vs pinned to
// CPU 1. The test asserts the report's shape and that both variants really ran as specified — not who wins.
const IMAGE = 'outpost/busybox:lab';
const PORT = 8080;
const NETWORK = 'latency-ab-net';
const serve = `trap 'exit 0' TERM; mkdir -p /tmp/w && echo ok > /tmp/w/index.html && httpd -f -p ${PORT} -h /tmp/w & wait`;

const web = (extra: string) => `  web:
    image: ${IMAGE}
    command: ["sh", "-c", ${JSON.stringify(serve)}]
    labels:
      outpost.probe: "tcp:${PORT}"
      outpost.latency-ab: target
${extra}`;
const hog = `  hog:
    image: ${IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do :; done & wait"]
    network_mode: none
    cpuset: "0"
    labels:
      outpost.probe: ""
`;

let lab: Lab;
let dev: LabDevice;
let core: Core;
let api: Api;
let device: Device;
let work: string;
const link = { identityFile: '', acceptNewHostKey: true };

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'ab-1', docker: true }] });
  dev = lab.device('ab-1');
  link.identityFile = lab.clientKeyPath;
  work = mkdtempSync(join(tmpdir(), 'outpost-latency-ab-'));
  await importBusyboxImage(dev, IMAGE);
  const archive = join(work, 'busybox.tar');
  const engine = new Docker({ socketPath: dev.dockerSocketHostPath });
  await pipeline((await engine.getImage(IMAGE).get()) as unknown as Readable, createWriteStream(archive));
  core = createCore({ dataDir: join(work, 'home'), transport: 'in-process' });
  api = inProcessApi(core);
  device = core.devices.add({ name: dev.name, host: dev.ip });
  await api.invoke('workloads:images-import', { path: archive });
}, 180_000);

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

function expectShape(report: AbReport): void {
  expect(report.deviceId).toBe(device.id);
  expect(report.service).toBe('web');
  for (const v of report.variants) {
    expect(v.deploy.phase).toBe('done');
    expect(v.summary.count).toBeGreaterThan(10);
    expect(v.summary.lossPct).toBeLessThan(50);
    expect(v.summary.p50).toBeGreaterThan(0);
  }
  expect(report.variants[0].container.id).not.toBe(report.variants[1].container.id);
  for (const d of [report.difference.median, report.difference.p95]) {
    expect(d.ci95[0]).toBeLessThanOrEqual(d.value);
    expect(d.ci95[1]).toBeGreaterThanOrEqual(d.value);
  }
  expect(['A', 'B', 'none']).toContain(report.winner);
  expect(report.verdict).toMatch(/B − A median/);
}

describe('latency lab (A/B)', () => {
  it('host networking vs a bridge network with a published port, from the CLI', async () => {
    const a = join(work, 'host.yml');
    const b = join(work, 'bridge.yml');
    writeFileSync(a, `services:\n${web('    network_mode: host\n')}`);
    writeFileSync(b, `services:\n${web(`    network_mode: ${NETWORK}\n    ports: ["${PORT}:${PORT}"]\n`)}`);
    let stdout = '';
    let stderr = '';
    let code = 0;
    await runCli(
      ['latency', 'ab', dev.ip, '-f', a, '-f', b, '--target', `http:${PORT}/`, '--interval', '50', '--duration', '3', '--warmup', '1', '--identity', lab.clientKeyPath, '--yes', '--json'],
      { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { ...process.env, OUTPOST_HOME: core.config.dataDir }, setExitCode: (c) => void (code = c) },
    );
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as AbReport;
    expectShape(report);
    expect(report.variants.map((v) => v.container.networkMode)).toEqual(['host', NETWORK]);
    // The bridge network exists inside the device's own namespace, and B is what is left running.
    const nets = await dev.exec(['docker', 'network', 'inspect', NETWORK, '--format', '{{.Driver}}']);
    expect(nets.stdout.trim()).toBe('bridge');
    const running = await dev.exec(['docker', 'inspect', 'web', '--format', '{{.HostConfig.NetworkMode}} {{.State.Running}}']);
    expect(running.stdout.trim()).toBe(`${NETWORK} true`);
    expect(stderr).toMatch(/A: deploying/);
    expect(stderr).toMatch(/B: probing/);
  });

  it('unpinned vs pinned to CPU 1 while a CPU hog runs on CPU 0, saved with the device history', async () => {
    const variant = (cpuset: string) => ({ text: `services:\n${web(`    network_mode: host\n${cpuset}`)}${hog}`, name: cpuset ? 'pinned.yml' : 'unpinned.yml' });
    const running = api.invoke('latency:ab', { device: device.id, variants: [variant(''), variant('    cpuset: "1"\n')], target: `http:${PORT}/`, intervalMs: 50, durationS: 3, warmupS: 1, link });
    running.catch(() => undefined);
    // The run holds the device: a deploy in its middle would mix two runs in the figures.
    await waitFor('the A/B run to hold the device', async () => core.locks.list().some((l) => l.deviceId === device.id && l.operation === 'latency A/B test'), 20_000);
    const meanwhile = await api.invoke('workloads:deploy', { devices: [device.id], compose: variant(''), link, healthTimeoutMs: 30_000 });
    expect(meanwhile.results[0]?.error).toMatchObject({ kind: 'busy', message: expect.stringContaining('latency A/B test') });
    const report = await running;
    expectShape(report);
    expect(report.variants.map((v) => v.container.cpuset)).toEqual(['', '1']);
    const hogState = await dev.exec(['docker', 'inspect', 'hog', '--format', '{{.HostConfig.CpusetCpus}} {{.State.Running}}']);
    expect(hogState.stdout.trim()).toBe('0 true');
    const history = await api.invoke('latency:ab-history', { device: device.id });
    expect(history.map((r) => r.id)).toContain(report.id);
    expect(history.length).toBe(2);
    await dev.exec(['docker', 'rm', '-f', 'hog']);
  });
});
