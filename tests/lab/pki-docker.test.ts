import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, CaInfo, Device } from '../../shared/contract';
import { dockerPing, importBusyboxImage, startLab, waitFor, type Lab, type LabDevice } from './lab';
import { createTestCa } from './tls-fixtures';

// Certificates from an offline site CA against real devices: the clock read over SSH (one device's sshd runs under
// libfaketime in 1970), keys made by the device's own openssl, Docker daemon TLS installed through the device's
// init script with daemon.json merged, the real Docker CLI over --tlsverify, Outpost's Workloads over mTLS, and
// a daemon that cannot start with the new config rolled back.
let lab: Lab;
let core: Core;
let api: Api;
let work: string;
let ca: CaInfo;
const devices: Record<string, Device> = {};
const link = { acceptNewHostKey: true, identityFile: '' };
const passphrase = 'correct horse battery staple';

const dev = (name: string): LabDevice => lab.device(name);
const sh = async (name: string, script: string) => (await dev(name).exec(['sh', '-c', script])).stdout;

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  // The laptop's Docker client key is in the vault too: engines over mTLS open it with this (as the CLI does).
  process.env.OUTPOST_PASSPHRASE = passphrase;
  lab = await startLab({
    devices: [
      { name: 'tls-a', docker: true },
      { name: 'tls-b', docker: true },
      { name: 'clock-1970', clock: '@1970-01-01 00:00:00' },
    ],
  });
  link.identityFile = lab.clientKeyPath;
  work = mkdtempSync(join(tmpdir(), 'outpost-pki-'));
  core = createCore({ dataDir: join(work, 'home'), transport: 'in-process' });
  api = inProcessApi(core);
  for (const d of lab.devices) devices[d.name] = core.devices.add({ name: d.name, host: d.ip });
  ca = await api.invoke('pki:ca-create', { name: 'plant-3', passphrase });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('device clock', () => {
  it('reads a right clock as ok and a 1970 clock as skewed', async () => {
    const ok = await api.invoke('pki:clock-check', { device: devices['tls-a']!.id, link });
    expect(ok.ok).toBe(true);
    const old = await api.invoke('pki:clock-check', { device: devices['clock-1970']!.id, link });
    expect(old.ok).toBe(false);
    expect(old.deviceTime.startsWith('1970-01-01')).toBe(true);
    expect(old.skewSeconds).toBeLessThan(-50 * 365 * 86_400);
  });

  it('refuses to issue to a device in 1970 (kind clock-skew) and leaves it as it was; after clock set it issues', async () => {
    await expect(api.invoke('pki:issue', { device: devices['clock-1970']!.id, profile: 'device-identity', link, passphrase })).rejects.toMatchObject({ kind: 'clock-skew' });
    expect(await sh('clock-1970', 'ls /etc/outpost/pki 2>/dev/null | wc -l')).toBe('0\n');
    const set = await api.invoke('pki:clock-set', { device: devices['clock-1970']!.id, link });
    expect(set.ok).toBe(true);
    expect(Math.abs(new Date(set.deviceTime).getTime() - Date.now())).toBeLessThan(120_000);
    const r = await api.invoke('pki:issue', { device: devices['clock-1970']!.id, profile: 'device-identity', link, passphrase });
    expect(r.certificate?.keyOrigin).toBe('device');
    // The device's own openssl, under the device's clock, accepts what it got.
    expect(await sh('clock-1970', 'cd /etc/outpost/pki/device-identity && openssl verify -CAfile ca.pem cert.pem && stat -c %a key.pem')).toBe('cert.pem: OK\n600\n');
  });
});

describe('Docker daemon TLS', () => {
  it('a wrong CA passphrase is kind auth and the device is not touched', async () => {
    await expect(api.invoke('pki:issue', { device: devices['tls-a']!.id, profile: 'docker-server', install: 'docker', link, passphrase: 'wrong' })).rejects.toMatchObject({ kind: 'auth' });
    expect(await sh('tls-a', 'ls /etc/outpost/pki /etc/docker/tls 2>/dev/null | wc -l')).toBe('0\n');
  });

  it('shows the plan first and changes nothing', async () => {
    await sh('tls-a', 'mkdir -p /etc/docker && printf \'{\\n  "log-level": "warn",\\n  "labels": ["site=plant-3"]\\n}\\n\' > /etc/docker/daemon.json');
    const r = await api.invoke('pki:issue', { device: devices['tls-a']!.id, profile: 'docker-server', install: 'docker', planOnly: true, link, passphrase });
    expect(r.certificate).toBeNull();
    const paths = r.plan!.changes.map((c) => c.path).filter(Boolean);
    expect(paths).toEqual(['/etc/docker/tls/ca.pem', '/etc/docker/tls/cert.pem', '/etc/docker/tls/key.pem', '/etc/docker/daemon.json', '/etc/default/docker']);
    expect(r.plan!.changes.find((c) => c.path === '/etc/docker/daemon.json')!.detail).toContain('keep log-level, labels');
    expect(r.plan!.restart).toBe('/etc/init.d/docker restart');
    expect(await sh('tls-a', 'ls /etc/outpost/pki /etc/docker/tls 2>/dev/null | wc -l')).toBe('0\n');
  });

  it('installs: key made on the device (0600), daemon.json merged, engine restarted by its init script and answering over mTLS', async () => {
    const r = await api.invoke('pki:issue', { device: devices['tls-a']!.id, profile: 'docker-server', install: 'docker', link, passphrase });
    expect(r.installed).toBe(true);
    expect(r.certificate!.sans).toEqual(expect.arrayContaining([{ type: 'ip', value: dev('tls-a').ip }, { type: 'dns', value: 'tls-a.local' }]));
    expect(await sh('tls-a', 'stat -c "%a %U" /etc/docker/tls/key.pem /etc/outpost/pki/docker-server/key.pem')).toBe('600 root\n600 root\n');
    const daemon = JSON.parse(await sh('tls-a', 'cat /etc/docker/daemon.json')) as Record<string, unknown>;
    expect(daemon).toMatchObject({ 'log-level': 'warn', labels: ['site=plant-3'], tls: true, tlsverify: true, tlscert: '/etc/docker/tls/cert.pem' });
    expect(await sh('tls-a', 'ls /etc/docker/ | grep -c outpost-prev || true')).toBe('0\n');
    const device = core.devices.get(devices['tls-a']!.id);
    expect(device.docker).toMatchObject({ tls: true, port: 2376, caId: ca.id });
    expect(core.engines.endpointKind(device)).toBe('tls');
    // openssl on the laptop side accepts the certificate as a TLS server certificate of the site CA.
    writeFileSync(join(work, 'ca.pem'), r.caPem);
    writeFileSync(join(work, 'server.pem'), r.certificate!.pem);
    expect((await run(['openssl', 'verify', '-CAfile', join(work, 'ca.pem'), '-purpose', 'sslserver', join(work, 'server.pem')])).stdout).toContain('OK');
  });

  it('the real docker CLI with --tlsverify accepts the laptop’s client certificate and rejects one from another CA', async () => {
    const creds = await core.pki.tlsCredentials(core.devices.get(devices['tls-a']!.id));
    for (const [file, text] of [['lap-ca.pem', creds.ca], ['lap-cert.pem', creds.cert], ['lap-key.pem', creds.key]] as const) writeFileSync(join(work, file), text, { mode: 0o600 });
    const host = `tcp://${dev('tls-a').ip}:2376`;
    const cli = (cert: string, key: string) => run(['docker', '--tlsverify', '--tlscacert', join(work, 'lap-ca.pem'), '--tlscert', cert, '--tlskey', key, '-H', host, 'version', '--format', '{{.Server.Version}}']);
    const ok = await cli(join(work, 'lap-cert.pem'), join(work, 'lap-key.pem'));
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toMatch(/^\d+\.\d+/);
    const other = await createTestCa(work, 'other-ca');
    const stranger = await other.issue('stranger', { client: true });
    const refused = await cli(stranger.certFile, stranger.keyFile);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate|tls|bad/i);
  });

  it('Outpost’s Workloads run over mTLS: ps and a deploy', async () => {
    const device = core.devices.get(devices['tls-a']!.id);
    await importBusyboxImage(dev('tls-a'), 'outpost/busybox:lab');
    const archive = join(work, 'busybox.tar');
    const local = new Docker({ socketPath: dev('tls-a').dockerSocketHostPath });
    await pipeline((await local.getImage('outpost/busybox:lab').get()) as unknown as Readable, createWriteStream(archive));
    await api.invoke('workloads:images-import', { path: archive });
    const ps = await api.invoke('workloads:ps', { devices: [device.id], link });
    expect(ps[0]!.error).toBeUndefined();
    expect(ps[0]).toMatchObject({ ok: true });
    const engine = await core.engines.engine(device, link);
    expect(engine.endpoint.kind).toBe('tls');
    const info = (await engine.docker.info()) as { Name: string };
    expect(info.Name).toBe('tls-a');
    const deploy = await api.invoke('workloads:deploy', {
      devices: [device.id],
      compose: { name: 'compose.yml', text: 'services:\n  idle:\n    image: outpost/busybox:lab\n    command: ["sleep", "3600"]\n' },
      link,
      healthTimeoutMs: 30_000,
    });
    expect(deploy.results[0]).toMatchObject({ ok: true });
    const after = await api.invoke('workloads:ps', { devices: [device.id], link });
    expect(after[0]!.value!.map((c) => c.name)).toContain('idle');
  });

  it('installing the same certificate again changes nothing and restarts nothing', async () => {
    const [cert] = (await api.invoke('pki:cert-list', { deviceId: devices['tls-a']!.id })).filter((c) => c.profile === 'docker-server');
    const pid = await sh('tls-a', 'cat /run/docker.pid');
    const r = await api.invoke('pki:install', { serial: cert!.serial, target: 'docker', link, passphrase });
    expect(r.plan!.unchanged).toBe(true);
    expect(r.plan!.restart).toBeNull();
    expect(await sh('tls-a', 'cat /run/docker.pid')).toBe(pid);
  });

  it('a daemon.json that is not JSON: kind invalid-input, nothing changed on the device', async () => {
    await sh('tls-b', 'mkdir -p /etc/docker && printf \'{"log-level": "warn",\' > /etc/docker/daemon.json');
    await expect(api.invoke('pki:issue', { device: devices['tls-b']!.id, profile: 'docker-server', install: 'docker', link, passphrase })).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringContaining('not JSON') });
    expect(await sh('tls-b', 'cat /etc/docker/daemon.json')).toBe('{"log-level": "warn",');
    expect(await sh('tls-b', 'ls /etc/outpost/pki /etc/docker/tls 2>/dev/null | wc -l')).toBe('0\n');
  });

  it('a daemon that cannot start with the new config is rolled back (kind rolled-back) and runs again as before', async () => {
    // A gateway whose init script already passes a TLS flag: dockerd refuses the same directive in daemon.json.
    await sh('tls-b', 'printf \'{"log-level": "warn"}\\n\' > /etc/docker/daemon.json; printf \'DOCKER_OPTS="--tlscacert=/etc/ssl/certs/ca-certificates.crt"\\n\' > /etc/default/docker; /etc/init.d/docker restart');
    await waitFor('dockerd on tls-b after its restart', async () => (await sh('tls-b', 'pidof dockerd || true')).trim() !== '' && (await dockerPing(dev('tls-b').dockerSocketHostPath!)), 30_000);
    const before = await sh('tls-b', 'cat /etc/docker/daemon.json /etc/default/docker');
    const err = await api.invoke('pki:issue', { device: devices['tls-b']!.id, profile: 'docker-server', install: 'docker', link, passphrase }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'rolled-back', message: expect.stringMatching(/tlscacert/), details: { engineBack: true } });
    expect(await sh('tls-b', 'cat /etc/docker/daemon.json /etc/default/docker')).toBe(before);
    expect(await sh('tls-b', 'ls /etc/docker/tls 2>/dev/null | wc -l; ls /etc/docker | grep -c outpost || true')).toBe('0\n0\n');
    const docker = await core.links.docker(core.devices.get(devices['tls-b']!.id), { identityFile: lab.clientKeyPath });
    expect(String(await docker.ping())).toBe('OK');
    expect(core.devices.get(devices['tls-b']!.id).docker?.tls).toBeFalsy();
  });

  it('an expired CA signs nothing (kind expired)', async () => {
    const old = await (await core.pki.load()).cas.create({ name: 'expired', algorithm: 'ec-p256', validityDays: 1, passphrase }, new Date(Date.now() - 3 * 86_400_000));
    await expect(api.invoke('pki:issue', { device: devices['tls-b']!.id, profile: 'device-identity', caId: old.id, link, passphrase })).rejects.toMatchObject({ kind: 'expired' });
  });
});
