import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api } from '../../shared/contract';
import { ndjsonSegment, produce } from './buffers-fixtures';
import { startLab, waitFor, type Lab } from './lab';
import { mosquitto } from './mosquitto';
import { createTestCa, type Issued, type TestCa } from './tls-fixtures';

// Upstream to a real mosquitto that demands mutual TLS: certificates from a site CA (made offline here), and the
// ways a technician gets them wrong — no client certificate, a broker from another CA, an expired certificate —
// each refused at once with kind `auth`, nothing marked forwarded.
let lab: Lab;
let core: Core;
let api: Api;
let ca: TestCa;
let client: Issued;
let subscriber: MqttClient | null = null;
const certs = mkdtempSync(join(tmpdir(), 'outpost-mtls-'));
chmodSync(certs, 0o755); // mosquitto reads its certificate and key as its own user
let expectedLines: string[] = [];
const broker = mosquitto(() => [
  `cafile ${join(certs, 'site-ca.crt')}`,
  `certfile ${join(certs, 'broker.crt')}`,
  `keyfile ${join(certs, 'broker.key')}`,
  'require_certificate true',
  'use_identity_as_username true',
  'allow_anonymous false',
  'persistence false',
]);
const url = `mqtts://127.0.0.1:${broker.port}`;

beforeAll(async () => {
  ca = await createTestCa(certs, 'site-ca');
  await ca.issue('broker', { server: { ips: ['127.0.0.1'] } });
  client = await ca.issue('laptop', { client: true });
  await broker.start();

  lab = await startLab({ devices: [{ name: 'tls-a' }] });
  core = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-upstream-tls-')), transport: 'in-process' });
  api = inProcessApi(core);
  const dev = lab.devices[0]!;
  const device = core.devices.add({ name: dev.name, host: dev.ip });
  const lines: string[] = [];
  for (let i = 0; i < 3; i++) {
    const body = ndjsonSegment('telemetry', i, 4_000);
    lines.push(...body.toString().trim().split('\n'));
    produce(dev, 'telemetry', `s-${i}.ndjson`, body, { sidecar: true });
  }
  expectedLines = lines;
  await api.invoke('buffers:flush', { devices: [device.id], link: { identityFile: lab.clientKeyPath, acceptNewHostKey: true } });
});

afterAll(async () => {
  subscriber?.end(true);
  await broker.stop();
  await core?.close();
  await lab?.teardown();
  rmSync(certs, { recursive: true, force: true });
});

const pending = async () => (await api.invoke('upstream:status', {})).streams.reduce((n, s) => n + s.segmentsPending, 0);

describe('upstream over mutual TLS', () => {
  it('refuses a push without a client certificate at once, with kind auth, and forwards nothing', async () => {
    const push = api.invoke('upstream:push', { mqtt: { url, tls: { caFile: ca.certFile } }, baseDelayMs: 2_000, maxAttempts: 50 });
    await expect(push).rejects.toMatchObject({ kind: 'auth', message: expect.stringMatching(/client certificate/) });
    const status = await api.invoke('upstream:status', {});
    expect(status.streams.every((s) => s.recordsForwarded === 0 && s.attempts === 1)).toBe(true);
  });

  it('refuses a broker whose certificate another CA signed, with kind auth', async () => {
    const other = await createTestCa(certs, 'other-ca');
    const push = api.invoke('upstream:push', { mqtt: { url, tls: { caFile: other.certFile, certFile: client.certFile, keyFile: client.keyFile } }, baseDelayMs: 2_000, maxAttempts: 50 });
    await expect(push).rejects.toMatchObject({ kind: 'auth', message: expect.stringMatching(/certificate is not accepted/) });
    expect(await pending()).toBe(3);
  });

  it('refuses an expired client certificate, with kind auth', async () => {
    const expired = await ca.issue('laptop-expired', { client: true, notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    const push = api.invoke('upstream:push', { mqtt: { url, tls: { caFile: ca.certFile, certFile: expired.certFile, keyFile: expired.keyFile } }, baseDelayMs: 2_000, maxAttempts: 50 });
    await expect(push).rejects.toMatchObject({ kind: 'auth' });
    expect(await pending()).toBe(3);
  });

  it('forwards every record with the site certificates, seen by a subscriber that also authenticates', async () => {
    const got: string[] = [];
    subscriber = mqtt.connect(url, { ca: readFileSync(ca.certFile), cert: readFileSync(client.certFile), key: readFileSync(client.keyFile), clientId: 'outpost-lab-tls-sub' });
    subscriber.on('message', (_topic, payload) => got.push(payload.toString()));
    await new Promise<void>((resolve, reject) => subscriber!.once('connect', () => subscriber!.subscribe('outpost/#', { qos: 1 }, (err) => (err ? reject(err) : resolve()))).once('error', reject));
    const result = await api.invoke('upstream:push', { mqtt: { url, tls: { caFile: ca.certFile, certFile: client.certFile, keyFile: client.keyFile } } });
    expect(result.recordsForwarded).toBe(expectedLines.length);
    await waitFor('every record at the TLS subscriber', async () => got.length >= expectedLines.length, 10_000);
    expect(got).toEqual(expectedLines);
    expect(await pending()).toBe(0);
  });
});
