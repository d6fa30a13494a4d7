import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device, IssueResult } from '../../shared/contract';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';
import { createTestCa } from './tls-fixtures';

// MQTT mTLS from the site CA against real mosquitto brokers on lab devices: the listener installed through the
// device's init script beside the broker's own config, the real mosquitto clients accepted with a site certificate
// and refused with another CA's, a revoked client refused once the CRL is pushed, a failed restart rolled back, and
// a device without openssl (key made on the laptop) whose short-lived certificate expires and is renewed.
let lab: Lab;
let core: Core;
let api: Api;
let work: string;
const devices: Record<string, Device> = {};
const link = { acceptNewHostKey: true, identityFile: '' };
const passphrase = 'mqtt lab passphrase';
let laptopDir: string;
let shortLived: IssueResult;

const dev = (name: string): LabDevice => lab.device(name);
const sh = async (name: string, script: string) => (await dev(name).exec(['sh', '-c', script])).stdout;

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0] as string, argv.slice(1), { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** mosquitto_pub from the laptop (this netns) to a device's TLS listener with the given client files. */
const pubFromLaptop = (host: string, files: { ca: string; cert: string; key: string }, port = 8883) =>
  run(['mosquitto_pub', '-h', host, '-p', String(port), '--cafile', files.ca, '--cert', files.cert, '--key', files.key, '-i', `lab-${Math.random().toString(16).slice(2, 8)}`, '-t', 'lab/hello', '-m', 'hi', '-q', '1']);

/** mosquitto_pub on the device itself, as one of its services, with the mqtt-client files in its store. */
const pubOnDevice = (name: string) => {
  const d = '/etc/outpost/pki/mqtt-client';
  return dev(name).exec(['mosquitto_pub', '-h', dev(name).ip, '-p', '8883', '--cafile', `${d}/ca.pem`, '--cert', `${d}/cert.pem`, '--key', `${d}/key.pem`, '-i', 'device-service', '-t', 'lab/device', '-m', 'from-the-device', '-q', '1']);
};

beforeAll(async () => {
  process.env.OUTPOST_PASSPHRASE = passphrase;
  lab = await startLab({ devices: [{ name: 'broker', mosquitto: true }, { name: 'old-gw', mosquitto: true, noOpenssl: true }] });
  link.identityFile = lab.clientKeyPath;
  work = mkdtempSync(join(tmpdir(), 'outpost-pki-mqtt-'));
  laptopDir = join(work, 'laptop-mqtt');
  core = createCore({ dataDir: join(work, 'home'), transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices[d.name] = core.devices.add({ name: d.name, host: d.ip });
  await api.invoke('pki:ca-create', { name: 'plant-mq', passphrase });
  // Issued first, checked last: a one-minute certificate on a device without openssl, expired by then.
  shortLived = await api.invoke('pki:issue', { device: devices['old-gw']!.id, profile: 'mqtt-server', install: 'mqtt', lifetimeMinutes: 1, link, passphrase });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('MQTT target', () => {
  it('shows the plan first and changes nothing', async () => {
    const r = await api.invoke('pki:issue', { device: devices.broker!.id, profile: 'mqtt-server', install: 'mqtt', planOnly: true, link, passphrase });
    expect(r.certificate).toBeNull();
    expect(r.plan!.changes.map((c) => c.path).filter(Boolean)).toEqual([
      '/etc/mosquitto/outpost/ca.pem',
      '/etc/mosquitto/outpost/cert.pem',
      '/etc/mosquitto/outpost/key.pem',
      '/etc/mosquitto/outpost/crl.pem',
      '/etc/mosquitto/conf.d/outpost-tls.conf',
    ]);
    expect(r.plan!.changes.find((c) => c.path?.endsWith('key.pem'))).toMatchObject({ owner: 'root:mosquitto', mode: '0640' });
    expect(r.plan!.restart).toBe('/etc/init.d/mosquitto restart');
    expect(await sh('broker', 'ls /etc/outpost/pki /etc/mosquitto/outpost /etc/mosquitto/conf.d 2>/dev/null | grep -c pem || true')).toBe('0\n');
  });

  it('installs the listener beside the broker’s own config, restarts it by its init script, and the laptop gets an mqtt-client certificate', async () => {
    const mainBefore = await sh('broker', 'cat /etc/mosquitto/mosquitto.conf');
    const r = await api.invoke('pki:issue', { device: devices.broker!.id, profile: 'mqtt-server', install: 'mqtt', link, passphrase });
    expect(r.installed).toBe(true);
    expect(r.certificate!.keyOrigin).toBe('device');
    expect(await sh('broker', 'stat -c "%a %U:%G" /etc/mosquitto/outpost/key.pem /etc/mosquitto/outpost/cert.pem')).toBe('640 root:mosquitto\n644 root:root\n');
    expect(await sh('broker', 'cat /etc/mosquitto/mosquitto.conf')).toBe(mainBefore);
    const listener = await sh('broker', 'cat /etc/mosquitto/conf.d/outpost-tls.conf');
    expect(listener).toMatch(/^listener 8883$/m);
    expect(listener).toMatch(/^require_certificate true$/m);
    expect(listener).toMatch(/^crlfile \/etc\/mosquitto\/outpost\/crl\.pem$/m);
    expect(await sh('broker', 'openssl crl -in /etc/mosquitto/outpost/crl.pem -CAfile /etc/mosquitto/outpost/ca.pem -noout 2>&1')).toMatch(/verify OK/);
    const laptop = (await api.invoke('pki:cert-list', {})).filter((c) => c.profile === 'mqtt-client' && c.deviceId === null);
    expect(laptop).toHaveLength(1);
    const files = await api.invoke('pki:laptop-client', { profile: 'mqtt-client', outDir: laptopDir });
    expect(files.certificate.serial).toBe(laptop[0]!.serial);
    expect(files.written).toHaveLength(3);
  });

  it('the real mosquitto clients: a device service’s mqtt-client certificate and the laptop’s are accepted, another CA’s is refused', async () => {
    const client = await api.invoke('pki:issue', { device: devices.broker!.id, profile: 'mqtt-client', link, passphrase });
    expect(client.certificate!.sans).toEqual([]);
    const received = run(['mosquitto_sub', '-h', dev('broker').ip, '-p', '8883', '--cafile', join(laptopDir, 'ca.pem'), '--cert', join(laptopDir, 'cert.pem'), '--key', join(laptopDir, 'key.pem'), '-t', 'lab/device', '-C', '1', '-W', '20', '-q', '1']);
    // The subscriber is in once the broker logs it; then the device's service publishes.
    await waitFor('the laptop’s subscription on broker', async () => (await sh('broker', 'cat /run/mosquitto/mosquitto.log 2>/dev/null')).includes('lab/device'), 15_000);
    const pub = await pubOnDevice('broker');
    expect(pub.stderr).toBe('');
    expect(pub.code).toBe(0);
    expect((await received).stdout.trim()).toBe('from-the-device');
    const other = await createTestCa(work, 'other-ca');
    const stranger = await other.issue('stranger', { client: true });
    const refused = await pubFromLaptop(dev('broker').ip, { ca: join(laptopDir, 'ca.pem'), cert: stranger.certFile, key: stranger.keyFile });
    expect(refused.code).not.toBe(0);
  });

  it('the files target: paths, owner and modes as given, the reload run as argv, nothing again on a second install', async () => {
    await sh('broker', 'mkdir -p /etc/app');
    const files = { certPath: '/etc/app/tls.crt', keyPath: '/etc/app/tls.key', caPath: '/etc/app/ca.crt', crlPath: '/etc/app/ca.crl', owner: 'mosquitto:mosquitto', keyMode: '0400', reload: ['touch', '/run/app reloaded'] };
    const r = await api.invoke('pki:issue', { device: devices.broker!.id, profile: 'device-identity', install: 'files', files, link, passphrase });
    expect(r.plan!.changes.map((c) => c.action)).toEqual(['write', 'write', 'write', 'write', 'run']);
    expect(await sh('broker', 'stat -c "%a %U:%G %n" /etc/app/tls.key /etc/app/tls.crt; ls "/run/app reloaded"')).toBe('400 mosquitto:mosquitto /etc/app/tls.key\n644 mosquitto:mosquitto /etc/app/tls.crt\n/run/app reloaded\n');
    expect(await sh('broker', 'cd /etc/app && openssl verify -CAfile ca.crt -crl_check -CRLfile ca.crl tls.crt')).toBe('tls.crt: OK\n');
    await sh('broker', 'rm "/run/app reloaded"');
    const again = await api.invoke('pki:install', { serial: r.certificate!.serial, target: 'files', link, passphrase });
    expect(again.plan!.unchanged).toBe(true);
    expect(await sh('broker', 'ls /run | grep -c "app reloaded" || true')).toBe('0\n');
  });

  it('revoke: the CRL is signed, pushed to the broker, and the revoked client is refused while the others still connect', async () => {
    const [client] = (await api.invoke('pki:cert-list', { deviceId: devices.broker!.id })).filter((c) => c.profile === 'mqtt-client');
    const r = await api.invoke('pki:revoke', { serial: client!.serial, reason: 'keyCompromise', link, passphrase });
    expect(r.certificate.status).toBe('revoked');
    // Every broker of the CA gets it: the one the client talks to and the other site device.
    expect(r.pushedTo).toEqual(expect.arrayContaining([expect.objectContaining({ deviceName: 'broker', target: 'mqtt', ok: true }), expect.objectContaining({ deviceName: 'old-gw', target: 'mqtt', ok: true })]));
    // The files target with a CRL path got it too, and its reload ran.
    expect(r.pushedTo).toContainEqual(expect.objectContaining({ deviceName: 'broker', target: 'files', ok: true }));
    expect(await sh('broker', 'cmp /etc/app/ca.crl /etc/mosquitto/outpost/crl.pem && ls "/run/app reloaded"')).toBe('/run/app reloaded\n');
    expect(r.notes.join(' ')).toMatch(/dockerd does not check CRLs/);
    expect(await sh('broker', `openssl crl -in /etc/mosquitto/outpost/crl.pem -noout -text | grep -ci "serial number: ${client!.serial}"`)).toBe('1\n');
    const refused = await pubOnDevice('broker');
    expect(refused.code).not.toBe(0);
    const laptop = await pubFromLaptop(dev('broker').ip, { ca: join(laptopDir, 'ca.pem'), cert: join(laptopDir, 'cert.pem'), key: join(laptopDir, 'key.pem') });
    expect(laptop.stderr).toBe('');
    expect(laptop.code).toBe(0);
  });

  it('installing the same certificate again changes nothing and restarts nothing (the pushed CRL is kept)', async () => {
    const [server] = (await api.invoke('pki:cert-list', { deviceId: devices.broker!.id })).filter((c) => c.profile === 'mqtt-server');
    const pid = await sh('broker', 'cat /run/mosquitto/mosquitto.pid');
    const r = await api.invoke('pki:install', { serial: server!.serial, target: 'mqtt', link, passphrase });
    expect(r.plan!.unchanged).toBe(true);
    expect(r.plan!.restart).toBeNull();
    expect(await sh('broker', 'cat /run/mosquitto/mosquitto.pid')).toBe(pid);
  });

  it('a broker that cannot start with the new listener (port taken) is rolled back with the reason and runs as before', async () => {
    const [server] = (await api.invoke('pki:cert-list', { deviceId: devices.broker!.id })).filter((c) => c.profile === 'mqtt-server');
    const squatter = (await sh('broker', 'setsid -f socat TCP-LISTEN:8884,reuseaddr,fork OPEN:/dev/null </dev/null >/dev/null 2>&1; sleep 0.2; pidof socat')).trim();
    await waitFor('socat on broker:8884', async () => (await sh('broker', 'cat /proc/net/tcp')).includes(':22B4 '), 10_000);
    const before = await sh('broker', 'cat /etc/mosquitto/conf.d/outpost-tls.conf');
    const err = await api.invoke('pki:install', { serial: server!.serial, target: 'mqtt', mqtt: { port: 8884, identityAsUsername: true }, link, passphrase }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rolled-back', message: expect.stringMatching(/address already in use/i), details: { brokerBack: true } });
    expect(await sh('broker', 'cat /etc/mosquitto/conf.d/outpost-tls.conf')).toBe(before);
    expect(await sh('broker', 'ls /etc/mosquitto/conf.d /etc/mosquitto/outpost | grep -c outpost-prev || true')).toBe('0\n');
    await sh('broker', `kill ${squatter}`);
    const laptop = await pubFromLaptop(dev('broker').ip, { ca: join(laptopDir, 'ca.pem'), cert: join(laptopDir, 'cert.pem'), key: join(laptopDir, 'key.pem') });
    expect(laptop.code).toBe(0);
  });
});

describe('a device without openssl, and renewal after expiry', () => {
  it('the key was made on the laptop, sent over the link, and that is recorded', async () => {
    expect(shortLived.certificate!.keyOrigin).toBe('laptop');
    expect(shortLived.notes.join(' ')).toMatch(/key left the laptop/);
    expect((await dev('old-gw').exec(['sh', '-c', 'openssl version'])).code).not.toBe(0);
    expect(await sh('old-gw', 'stat -c "%a" /etc/outpost/pki/mqtt-server/key.pem; stat -c "%a %U:%G" /etc/mosquitto/outpost/key.pem')).toBe('600\n640 root:mosquitto\n');
  });

  it('an expired certificate is renewed (same profile, new key, reinstalled) and the broker is trusted again', async () => {
    const notAfter = new Date(shortLived.certificate!.notAfter).getTime();
    await waitFor('the one-minute certificate of old-gw to expire', async () => Date.now() > notAfter + 1000, 120_000);
    const files = { ca: join(laptopDir, 'ca.pem'), cert: join(laptopDir, 'cert.pem'), key: join(laptopDir, 'key.pem') };
    const expired = await pubFromLaptop(dev('old-gw').ip, files);
    expect(expired.code).not.toBe(0);
    expect(expired.stderr).toMatch(/certificate|tls|ssl/i);
    const r = await api.invoke('pki:renew', { serial: shortLived.certificate!.serial, link, passphrase });
    expect(r.certificate!.replaces).toBe(shortLived.certificate!.serial);
    expect(r.certificate!.keyOrigin).toBe('laptop');
    expect(r.certificate!.spkiSha256).not.toBe(shortLived.certificate!.spkiSha256);
    expect(r.installed).toBe(true);
    const ok = await pubFromLaptop(dev('old-gw').ip, files);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});
