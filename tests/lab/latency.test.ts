import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import { runCli } from '../../electron/cli/program';
import type { Api, Device, PayloadOf, ResultOf } from '../../shared/contract';
import { startDelayProxy, SLEEPY_SERVER, type DelayProxy } from './delay-proxy';
import { mosquitto, type Broker } from './mosquitto';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';

// Latency probes against a real lab device (sshd, dockerd, a python workload endpoint that sleeps N ms) and a real
// mosquitto, with delay injected by a TCP proxy that holds every chunk N ms each way (no netem on this kernel).
// Accuracy is judged as the *added* latency (delayed − direct, medians) against what was injected: ±10 %. What the
// proxy injected is what it really held (its timers fire late on a loaded machine), measured by the proxy itself.
const SLEEPY_PORT = 8099;
const HOLD_MS = 25; // per direction: a request/response or an SSH round trip through the proxy gains 2 × 25 ms
const SLEEP_MS = 50;
const PROBE = { intervalMs: 50, timeoutMs: 2000, durationS: 3 };

let lab: Lab;
let dev: LabDevice;
let core: Core;
let api: Api;
let device: Device;
let viaProxy: Device;
let workload: ChildProcess;
let sshProxy: DelayProxy;
let httpProxy: DelayProxy;
let broker: Broker;
const link = { identityFile: '', acceptNewHostKey: true };

type Measured = ResultOf<'latency:measure'>;
const measure = (deviceId: string, target: string, onDevice = false): Promise<Measured> => api.invoke('latency:measure', { device: deviceId, target, onDevice, link, ...PROBE });
const p50 = (m: Measured): number => {
  expect(m.summary.lossPct, `${m.target}: ${JSON.stringify(m.lastError)}`).toBe(0);
  return m.summary.p50 as number;
};
/** The added latency must be the injected one within 10 %. */
const within10pct = (added: number, injected: number, what: string) => expect(Math.abs(added - injected), `${what}: added ${added.toFixed(2)} ms for ${injected} ms injected`).toBeLessThanOrEqual(injected * 0.1);

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'lat-1', docker: true }] });
  dev = lab.device('lat-1');
  link.identityFile = lab.clientKeyPath;
  core = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-latency-')), transport: 'in-process' });
  api = inProcessApi(core);
  device = core.devices.add({ name: dev.name, host: dev.ip });
  // The python endpoint runs in the device's namespaces; pdeathsig ties it to nsenter, killed by pid in afterAll.
  workload = spawn('nsenter', ['-t', String(dev.initPid), '-m', '-u', '-n', '-p', '--', 'setpriv', '--pdeathsig', 'SIGKILL', 'python3', '-c', SLEEPY_SERVER, String(SLEEPY_PORT)], { stdio: 'ignore' });
  await waitFor(`the sleepy endpoint on ${dev.ip}:${SLEEPY_PORT}`, async () => (await dev.exec(['python3', '-c', `import urllib.request; urllib.request.urlopen("http://127.0.0.1:${SLEEPY_PORT}/")`])).code === 0, 15_000);
  // The same device reached through the delaying proxy: its SSH link (and so Docker, and the on-device helper's
  // channel) crosses it; the pinned key is the device's own.
  sshProxy = await startDelayProxy({ host: dev.ip, port: 22 }, HOLD_MS);
  httpProxy = await startDelayProxy({ host: dev.ip, port: SLEEPY_PORT }, HOLD_MS);
  viaProxy = core.devices.add({ name: 'lat-1-via-proxy', host: '127.0.0.1', sshPort: sshProxy.port });
  broker = mosquitto(() => ['allow_anonymous true']);
  await broker.start();
}, 120_000);

afterAll(async () => {
  await core?.close();
  if (workload?.pid) workload.kill('SIGKILL');
  await sshProxy?.close();
  await httpProxy?.close();
  await broker?.stop();
  await lab?.teardown();
});

describe('probe accuracy against injected delay', () => {
  it('HTTP: an endpoint that sleeps 50 ms adds 50 ms (±10 %) to TTFB and total', async () => {
    const fast = await measure(device.id, `http:${SLEEPY_PORT}/sleep/0`);
    const slow = await measure(device.id, `http:${SLEEPY_PORT}/sleep/${SLEEP_MS}`);
    within10pct(p50(slow) - p50(fast), SLEEP_MS, 'http total');
    within10pct((slow.ttfb?.p50 as number) - (fast.ttfb?.p50 as number), SLEEP_MS, 'http ttfb');
    expect(slow.method).toMatch(/HTTP GET from the laptop/);
  });

  it('HTTP through the proxy gains both held chunks (2 × 25 ms)', async () => {
    const direct = await measure(device.id, `http:${SLEEPY_PORT}/sleep/0`);
    httpProxy.takeHeldMs();
    const proxied = await measure(device.id, `http:http://127.0.0.1:${httpProxy.port}/sleep/0`);
    within10pct(p50(proxied) - p50(direct), 2 * httpProxy.takeHeldMs(), 'http via proxy');
  });

  it('SSH round trip and Docker /_ping over a link through the proxy gain one round trip (2 × 25 ms)', async () => {
    const sshDirect = await measure(device.id, 'ssh');
    sshProxy.takeHeldMs();
    const sshProxied = await measure(viaProxy.id, 'ssh');
    within10pct(p50(sshProxied) - p50(sshDirect), 2 * sshProxy.takeHeldMs(), 'ssh');
    const dockerDirect = await measure(device.id, 'docker');
    const dockerProxied = await measure(viaProxy.id, 'docker');
    within10pct(p50(dockerProxied) - p50(dockerDirect), 2 * sshProxy.takeHeldMs(), 'docker /_ping');
  });

  it('MQTT publish → receive through the proxy to a real mosquitto gains 2 × 25 ms', async () => {
    const mqttProxy = await startDelayProxy({ host: '127.0.0.1', port: broker.port }, HOLD_MS);
    try {
      const direct = await measure(device.id, `mqtt:mqtt://127.0.0.1:${broker.port}`);
      const proxied = await measure(device.id, `mqtt:mqtt://127.0.0.1:${mqttProxy.port}`);
      within10pct(p50(proxied) - p50(direct), 2 * mqttProxy.takeHeldMs(), 'mqtt');
    } finally {
      await mqttProxy.close();
    }
  });

  it('TCP connect and ICMP answer with small positive times, never 0 and never loss', async () => {
    const tcp = await measure(device.id, 'tcp:22');
    const icmp = await measure(device.id, 'icmp');
    for (const m of [tcp, icmp]) {
      expect(m.summary.lossPct).toBe(0);
      expect(m.summary.min).toBeGreaterThan(0);
      expect(m.summary.p99).toBeLessThan(50);
    }
    expect(icmp.method).toMatch(/ICMP/);
  });

  it('the on-device probe does not see the link delay: it measures the workload from the device', async () => {
    const fromLaptop = await measure(viaProxy.id, `http:http://127.0.0.1:${httpProxy.port}/sleep/${SLEEP_MS}`);
    const onDevice = await measure(viaProxy.id, `http:${SLEEPY_PORT}/sleep/${SLEEP_MS}`, true);
    expect(onDevice.method).toMatch(/on the device/);
    within10pct(p50(onDevice), SLEEP_MS, 'on-device http');
    expect(p50(fromLaptop)).toBeGreaterThan(SLEEP_MS + 2 * HOLD_MS * 0.9);
    const tcpOnDevice = await measure(viaProxy.id, `tcp:${SLEEPY_PORT}`, true);
    expect(p50(tcpOnDevice)).toBeLessThan(HOLD_MS / 2);
  });
});

describe('live series', () => {
  it('a target that stops answering shows loss (gaps, not a frozen line), and resumes when it comes back', async () => {
    const seen: Array<number | null> = [];
    const states: string[] = [];
    const info = await api.invoke('latency:start', { device: device.id, target: `tcp:${SLEEPY_PORT}`, intervalMs: 100, timeoutMs: 300, link, thresholds: { p95Ms: null, lossPct: 20 } });
    const off = api.on('latency:samples', (batch: PayloadOf<'latency:samples'>) => {
      for (const s of batch.series) if (s.id === info.id) seen.push(...s.v);
    });
    const offThreshold = api.on('latency:threshold', (e) => {
      if (e.seriesId === info.id) states.push(e.state);
    });
    try {
      await waitFor('answered samples', async () => seen.filter((v) => v !== null).length >= 5, 10_000);
      await dev.linkDown();
      const before = seen.length;
      await waitFor('lost samples while the link is down', async () => seen.slice(before).filter((v) => v === null).length >= 5, 10_000);
      await waitFor('the loss threshold to trip', async () => states.includes('loss'), 10_000);
      await dev.linkUp();
      const down = seen.length;
      await waitFor('answers again once the link is back', async () => seen.slice(down).filter((v) => v !== null).length >= 5, 15_000);
      expect(seen.every((v) => v === null || v > 0)).toBe(true);
      const window = await api.invoke('latency:window', { seriesId: info.id });
      expect(window.t.length).toBe(window.v.length);
      expect(window.t.every((t, i) => i === 0 || t > (window.t[i - 1] as number))).toBe(true);
      expect(window.v.some((v) => v === null)).toBe(true);

      const listed = (await api.invoke('latency:list', {})).find((s) => s.id === info.id);
      expect(listed?.stats.lost).toBeGreaterThan(0);

      const rec = await api.invoke('latency:recording-save', { name: 'link cut', seriesIds: [info.id] });
      expect((await api.invoke('latency:recordings', {})).map((r) => r.id)).toContain(rec.id);
      const opened = await api.invoke('latency:recording-open', { id: rec.id });
      expect(opened.series[0]?.v.length).toBe(rec.series[0]?.points);
      const out = join(core.config.dataDir, 'link-cut.csv');
      const exported = await api.invoke('latency:recording-export', { id: rec.id, out });
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines[0]).toBe('device,target,on_device,time_iso,time_ms,latency_ms,lost');
      expect(lines.length - 1).toBe(exported.rows);
      expect(lines.filter((l) => l.endsWith(',,1')).length).toBe(opened.series[0]?.v.filter((v) => v === null).length);
    } finally {
      off();
      offThreshold();
      await dev.linkUp();
      await api.invoke('latency:stop', { seriesId: info.id });
    }
  });

  it('the CLI prints the summary in ms as one JSON document', async () => {
    let stdout = '';
    let code = 0;
    await runCli(['latency', dev.ip, '--target', 'ssh', '--target', `http:${SLEEPY_PORT}/`, '--identity', lab.clientKeyPath, '--yes', '--interval', '100', '--duration', '1', '--json'], {
      stdout: (t) => void (stdout += t),
      stderr: () => undefined,
      env: { ...process.env, OUTPOST_HOME: core.config.dataDir },
      setExitCode: (c) => void (code = c),
    });
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(out.map((r) => r.target)).toEqual(['ssh', `http:${SLEEPY_PORT}/`]);
    for (const r of out) expect(r).toMatchObject({ lossPct: 0, count: expect.any(Number), p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number), max: expect.any(Number), jitter: expect.any(Number) });
  });
});
