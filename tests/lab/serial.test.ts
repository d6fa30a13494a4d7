import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api } from '../../shared/contract';
import { ConsoleDriver } from '../../electron/core/serial/console-driver';
import { SerialLine } from '../../electron/core/serial/serial-line';
import { startLab, waitFor, type Lab } from './lab';

// The serial console against real far ends: agetty+login in a device's own namespaces (speed-dependent: the far end
// scrambles unless the laptop's side runs at its rate), a plain /bin/sh at 57600, and a line of noise.
let lab: Lab;
let core: Core;
let api: Api;
let home: string;
const bin = resolve(__dirname, '../../bin/outpost.mjs');

beforeAll(async () => {
  lab = await startLab({
    devices: [
      { name: 'con-getty', ssh: false, serial: true },
      { name: 'con-sh', ssh: false, serial: true, serialMode: 'shell', serialBaud: 57600 },
      { name: 'con-noise', ssh: false, serial: true, serialMode: 'noise' },
    ],
  });
  home = mkdtempSync(join(tmpdir(), 'outpost-serial-'));
  // The laptop key lives in the vault: this run's passphrase (the CLI children inherit it).
  process.env.OUTPOST_PASSPHRASE = 'serial lab passphrase';
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
}, 120_000);
afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

const real = async (name: string, cmd: string) => (await lab.device(name).exec(['sh', '-c', cmd])).stdout.trim();

describe('serial console (lab)', () => {
  it('auto-bauds, logs in over agetty+login and identifies the device with its real values', async () => {
    const d = lab.device('con-getty');
    const id = await api.invoke('serial:identify', { path: d.serialPath!, baud: 'auto', user: 'root', password: d.serialPassword });
    expect(id.baud).toBe(115200);
    expect(id.confidence).toBeGreaterThan(0.5);
    expect(id.hostname).toBe('con-getty');
    expect(id.macs).toContain(await real('con-getty', 'cat /sys/class/net/eth0/address'));
    expect(id.addresses).toContain(d.ip);
    expect(id.arch).toBe(await real('con-getty', 'uname -m'));
    expect(id.os).toBe(await real('con-getty', '. /etc/os-release; echo "$PRETTY_NAME"'));
    expect(id.sshd).toBe(false);
    // The lab device sees the host's binaries: Debian's docker.io is installed, its engine not started.
    expect(id.docker).toBe((await real('con-getty', 'command -v dockerd || true')) !== '');
    expect(id.serial).toBe((await real('con-getty', 'cat /proc/device-tree/serial-number 2>/dev/null || cat /sys/class/dmi/id/product_serial 2>/dev/null || true')) || null);
    expect(id.hostKeys.map((k) => k.fingerprint)).toContain(d.hostKeyFingerprint);
    const device = await api.invoke('devices:get', { id: id.deviceId });
    expect(device).toMatchObject({ serialPath: d.serialPath, hostnames: ['con-getty'] });
  });

  it('finds a non-default rate on a plain /bin/sh with no login', async () => {
    const d = lab.device('con-sh');
    const choice = await api.invoke('serial:autobaud', { path: d.serialPath! });
    expect(choice.baud).toBe(57600);
    const id = await api.invoke('serial:identify', { path: d.serialPath!, baud: 'auto' });
    expect(id).toMatchObject({ baud: 57600, hostname: 'con-sh' });
  });

  it('says plainly when no rate gives text (noise), without hanging', async () => {
    const d = lab.device('con-noise');
    const err = await api.invoke('serial:identify', { path: d.serialPath!, baud: 'auto', password: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'protocol' });
    await expect(api.invoke('serial:identify', { path: d.serialPath!, baud: 115200, password: 'x', timeoutMs: 4_000 })).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('refuses wrong credentials with kind auth', async () => {
    const d = lab.device('con-getty');
    await expect(api.invoke('serial:identify', { path: d.serialPath!, baud: 115200, user: 'root', password: 'wrong-password' })).rejects.toMatchObject({ kind: 'auth' });
  });
});

describe('serial bring-up, sessions and faults (lab)', () => {
  it('provisions the laptop key and sshd over the console with a site profile, then SSH reaches the device with its host key already pinned', async () => {
    const d = lab.device('con-getty');
    await api.invoke('serial:profile-save', { name: 'lab-site', hostnamePattern: 'site-{n:2}', clock: false });
    const plan = await api.invoke('serial:plan', { path: d.serialPath!, baud: 115200, password: d.serialPassword, profile: 'lab-site' });
    expect(plan.actions.map((a) => a.id)).toEqual(['authorize-key', 'sshd', 'hostname']);
    expect(plan.actions[1]?.commands).toEqual(['ssh-keygen -A', '(update-rc.d ssh enable 2>/dev/null || true); /etc/init.d/ssh start']);
    const r = await api.invoke('serial:provision', { path: d.serialPath!, baud: 115200, password: d.serialPassword, profile: 'lab-site' });
    expect(r.actions.map((a) => [a.id, a.ok])).toEqual([['authorize-key', true], ['sshd', true], ['hostname', true]]);
    expect(r.identity).toMatchObject({ hostname: 'site-01', sshd: true });
    expect(r.pinned).toEqual([{ host: d.ip, port: 22, fingerprint: d.hostKeyFingerprint }]);
    expect((await api.invoke('serial:profiles'))[0]?.assigned).toEqual({ [r.identity.macs[0]!]: { n: 1, hostname: 'site-01' } });

    // First contact on the LAN: no --yes, no fingerprint prompt; the key read over the console is already trusted.
    const device = await api.invoke('devices:get', { id: r.identity.deviceId });
    const conn = await core.links.ssh(device);
    expect((await conn.run(['hostname'])).stdout.toString().trim()).toBe('site-01');

    // Idempotent: the same bring-up again changes nothing and keeps the same number.
    const again = await api.invoke('serial:provision', { path: d.serialPath!, baud: 115200, password: d.serialPassword, profile: 'lab-site' });
    expect(again.actions.every((a) => a.ok)).toBe(true);
    expect((await d.exec(['sh', '-c', 'grep -c outpost-laptop /root/.ssh/authorized_keys'])).stdout.trim()).toBe('1');
  });

  it('sends a file over the console, verified by checksum on the device', async () => {
    const d = lab.device('con-sh');
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff));
    const r = await api.invoke('serial:send-file', { path: d.serialPath!, baud: 57600, data: data.toString('base64'), to: '/root/blob.bin', mode: '0600', chunkBytes: 512 });
    expect(r).toMatchObject({ bytes: 3000, verified: true });
    expect((await d.exec(['sha256sum', '/root/blob.bin'])).stdout.split(' ')[0]).toBe(r.sha256);
    expect((await d.exec(['stat', '-c', '%a', '/root/blob.bin'])).stdout.trim()).toBe('600');
  });

  it('the CLI identifies with --json in the shape scripts use', () => {
    const d = lab.device('con-sh');
    const r = spawnSync(process.execPath, [bin, 'serial', 'identify', d.serialPath!, '--baud', 'auto', '--json'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ baud: 57600, hostname: 'con-sh', sshd: false, docker: expect.any(Boolean), macs: expect.any(Array), addresses: [d.ip] });
  });

  it('a far end that goes away mid-command is kind unreachable, not a hang', async () => {
    const d = lab.device('con-sh');
    const line = await SerialLine.open(d.serialPath!, { baudRate: 57600, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, xonxoff: false });
    const driver = new ConsoleDriver(line);
    await driver.login({ user: 'root' }, 10_000);
    try {
      const outcome = driver.run('sleep 30', { timeoutMs: 60_000 }).then(() => 'finished', (err: unknown) => err);
      await d.unplugSerial();
      expect(await outcome).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('went away') });
    } finally {
      driver.dispose();
      await line.close();
      await d.plugSerial();
    }
  });

  it('a terminal session survives the adapter being pulled and re-plugged (lost → open), and keeps a timestamped log', async () => {
    const d = lab.device('con-sh');
    let screen = '';
    const states: string[] = [];
    const { sessionId } = await api.invoke('sessions:open', { kind: 'serial', path: d.serialPath!, settings: { baudRate: 57600 }, cols: 80, rows: 24 });
    const offData = api.on('sessions:data', (p) => {
      if (p.sessionId === sessionId) screen += Buffer.from(p.data, 'base64').toString();
    });
    const offState = api.on('serial:state', (p) => p.sessionId === sessionId && states.push(p.state));
    try {
      const type = (text: string) => api.invoke('sessions:write', { sessionId, data: Buffer.from(text).toString('base64') });
      await type('echo "be""fore"\r');
      await waitFor(`"before" on the serial terminal (screen: ${JSON.stringify(screen.slice(-200))})`, async () => screen.includes('before'), 10_000);
      await d.unplugSerial();
      await waitFor(`the terminal to say the port is lost (states ${states.join(',')}, screen ${JSON.stringify(screen.slice(-200))})`, async () => states.includes('lost') && screen.includes('went away'), 10_000);
      await d.plugSerial();
      await waitFor('the terminal to reopen the port', async () => states.at(-1) === 'open', 10_000);
      await type('echo "af""ter"\r');
      await waitFor(`"after" on the reopened terminal (screen: ${JSON.stringify(screen.slice(-200))})`, async () => screen.includes('after'), 10_000);
      const log = await api.invoke('serial:log', { sessionId });
      expect(log.text).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] /m);
      expect(log.text).toContain('after');
      expect(log.text).toContain('[outpost]');
      await expect(api.invoke('serial:signal', { sessionId, brk: true })).rejects.toMatchObject({ kind: 'unsupported' });
    } finally {
      offData();
      offState();
      await api.invoke('sessions:close', { sessionId });
    }
  });

  it('outpost console relays a terminal and quits on Ctrl-] q', async () => {
    const d = lab.device('con-sh');
    const child = spawn(process.execPath, [bin, 'console', d.serialPath!, '--baud', '57600'], { env: { ...process.env, OUTPOST_HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let code: number | null | undefined;
    const exited = new Promise<number | null>((r) => child.on('close', (c) => r((code = c))));
    const seen = () => `exit ${code}, output: ${JSON.stringify(out.slice(-300))}`;
    await waitFor('outpost console to connect', async () => out.includes('connected'), 15_000).catch((e: Error) => {
      throw new Error(`${e.message} (${seen()})`);
    });
    child.stdin.write('echo "con""sole-ok"\r');
    await waitFor("the command's output through outpost console", async () => out.includes('console-ok'), 10_000).catch((e: Error) => {
      throw new Error(`${e.message} (${seen()})`);
    });
    child.stdin.write('\x1dq');
    expect(await exited).toBe(0);
    expect(out).toMatch(/session log: .*\.log/);
  });
});
