// Proves the device lab is real: sshd, dockerd, avahi-daemon and a serial getty, reached from the
// technician netns (this very process). Run: bash tests/lab/in-lab.sh npx vitest run --project lab tests/lab/lab.test.ts
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertInTechNetns, buildImage, dockerPing, importBusyboxImage, mdnsQuery, sshBanner, startLab, waitFor,
  TECH_NETNS, LAB_NETNS_PREFIX, type Lab, type LabDevice,
} from './lab.js';
import { sshFingerprint } from './device.js';
import { isAlive, livePidFromFile, run } from './util.js';

let lab: Lab;
let tmp: string;
let startMs = 0;

beforeAll(async () => {
  assertInTechNetns();
  tmp = mkdtempSync(join(tmpdir(), 'outpost-labtest-'));
  const t0 = Date.now();
  lab = await startLab({
    devices: [
      { name: 'gw-docker-1', docker: true },
      { name: 'gw-docker-2', docker: true },
      { name: 'gw-serial', serial: true, avahi: true, services: [{ type: '_outpost._tcp', port: 8443, txt: { site: 'north' } }] },
    ],
  });
  startMs = Date.now() - t0;
});

afterAll(async () => {
  await lab?.teardown();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const ssh = (dev: LabDevice, ...cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  run(['ssh', '-i', lab.clientKeyPath, '-o', `UserKnownHostsFile=${join(tmp, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=accept-new', '-o', 'HashKnownHosts=no',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', `root@${dev.ip}`, ...cmd], { timeoutMs: 20_000 });

describe('device lab', () => {
  it('starts three devices with distinct addresses and host keys', () => {
    console.log(`lab with 3 devices (2 docker, 1 serial+avahi) started in ${startMs} ms`);
    expect(lab.devices.map((d) => d.name)).toEqual(['gw-docker-1', 'gw-docker-2', 'gw-serial']);
    expect(new Set(lab.devices.map((d) => d.ip)).size).toBe(3);
    expect(new Set(lab.devices.map((d) => d.hostKeyFingerprint)).size).toBe(3);
    for (const d of lab.devices) expect(d.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('answers with an SSH banner on port 22 of every device, from the technician netns', async () => {
    for (const d of lab.devices) expect(await sshBanner(d.ip)).toMatch(/^SSH-2\.0-OpenSSH/);
  });

  it('logs in with OpenSSH and sees the device own hostname, filesystem and host key', async () => {
    for (const d of lab.devices) {
      const file = `hello-${d.name}.txt`;
      writeFileSync(join(d.spoolDir, file), `spool of ${d.name}\n`);
      const r = await ssh(d, 'hostname', '&&', 'cat', `/var/spool/outpost/${file}`, '&&', 'ls', '/var/spool/outpost');
      expect(r.stderr).not.toMatch(/denied/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${d.name}\nspool of ${d.name}\n${file}\n`);
      // a file the device writes to /var/lib/outpost shows up in libDir, and only there
      expect((await d.exec(['sh', '-c', 'echo state > /var/lib/outpost/state'])).code).toBe(0);
      expect(readFileSync(join(d.libDir, 'state'), 'utf8')).toBe('state\n');
    }
    expect(existsSync('/var/lib/outpost/state')).toBe(false);
    const known = readFileSync(join(tmp, 'known_hosts'), 'utf8').trim().split('\n');
    const byIp = new Map(known.map((l) => [l.split(' ')[0], sshFingerprint(l.split(' ').slice(1).join(' '))]));
    for (const d of lab.devices) expect(byIp.get(d.ip)).toBe(d.hostKeyFingerprint);
  });

  it('runs containers on each device engine (busybox import, docker build, host network)', async () => {
    const dockers = lab.devices.filter((d) => d.dockerSocketHostPath);
    expect(dockers).toHaveLength(2);
    await Promise.all(dockers.map((d) => importBusyboxImage(d, 'outpost/busybox:lab')));
    for (const d of dockers) {
      const sock = d.dockerSocketHostPath ?? '';
      const r = await run(['docker', '-H', `unix://${sock}`, 'run', '--rm', '--network', 'host', 'outpost/busybox:lab', 'echo', 'hi']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hi\n');
    }
    const d = dockers[0];
    await buildImage(d, 'outpost/app:1', { from: 'outpost/busybox:lab', files: { '/app/run.sh': '#!/bin/sh\necho "app on $(hostname -i 2>/dev/null || hostname)"\n' }, cmd: ['/app/run.sh'] });
    const r = await d.exec(['docker', 'run', '--rm', '--network', 'host', 'outpost/app:1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^app on /);
    const other = await dockers[1].exec(['docker', 'image', 'inspect', 'outpost/app:1']);
    expect(other.code).not.toBe(0); // engines are separate
  });

  it('reaches a device engine through one ssh2 connection (openssh_forwardOutStreamLocal)', async () => {
    const d = lab.devices[0];
    const conn = new Client();
    await new Promise<void>((res, rej) => {
      conn.on('ready', () => res()).on('error', rej);
      conn.connect({ host: d.ip, username: 'root', privateKey: readFileSync(lab.clientKeyPath), readyTimeout: 10_000 });
    });
    try {
      const reply = await new Promise<string>((res, rej) => {
        conn.openssh_forwardOutStreamLocal('/var/run/docker.sock', (err, stream) => {
          if (err) return rej(err);
          let data = '';
          stream.on('data', (b: Buffer) => (data += b.toString()));
          stream.on('close', () => res(data));
          stream.end('GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n');
        });
      });
      expect(reply).toMatch(/^HTTP\/1\.0 200 OK[\s\S]*\r\n\r\nOK$/);
    } finally {
      conn.end();
    }
  });

  it('lets a device engine be killed and restarted through its own init script', async () => {
    const d = lab.devices[0];
    const sock = d.dockerSocketHostPath ?? '';
    await d.killDocker('SIGKILL');
    expect(await dockerPing(sock)).toBe(false);
    await d.startDocker();
    expect(await dockerPing(sock)).toBe(true);
    await d.stopDocker();
    expect(await dockerPing(sock)).toBe(false);
    const status = await ssh(d, '/etc/init.d/docker', 'start');
    expect(status.code).toBe(0);
    await waitFor('dockerd restarted over ssh', () => dockerPing(sock), 30_000);
  });

  it('answers a multicast DNS-SD browse from the real avahi-daemon, on the lab veth only', async () => {
    const d = lab.device('gw-serial');
    const until = (recs: Array<{ type: number; data: unknown }>): boolean => recs.some((x) => x.type === 12);
    const ptr = await mdnsQuery({ name: '_ssh._tcp.local', type: 'PTR', interfaceIp: lab.techIp, timeoutMs: 3000, until });
    expect(ptr.filter((x) => x.type === 12).map((x) => x.data)).toContain(`${d.name}._ssh._tcp.local`);
    const extra = await mdnsQuery({ name: `${d.name}._outpost._tcp.local`, type: 'ANY', interfaceIp: lab.techIp, timeoutMs: 3000,
      until: (recs) => recs.some((x) => x.type === 16) && recs.some((x) => x.type === 33) });
    expect(extra.find((x) => x.type === 16)?.data).toEqual(['site=north']);
    expect(extra.find((x) => x.type === 33)?.data).toMatchObject({ port: 8443, target: `${d.name}.local` });
  });

  it('shows a login prompt on the serial pty and logs in with the lab root password', async () => {
    const d = lab.device('gw-serial');
    expect(d.serialPath && d.serialPassword).toBeTruthy();
    const port = new SerialPort({ path: d.serialPath ?? '', baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    let seen = '';
    port.on('data', (b: Buffer) => (seen += b.toString('utf8')));
    const expectText = async (re: RegExp, what: string): Promise<void> => {
      await waitFor(`serial console to show ${what} (got ${JSON.stringify(seen.slice(-200))})`, async () => re.test(seen), 15_000);
      seen = '';
    };
    try {
      port.write('\r');
      await expectText(new RegExp(`${d.name} login: $`), 'login:');
      port.write('root\r');
      await expectText(/Password: $/, 'Password:');
      port.write(`${d.serialPassword}\r`);
      await expectText(/# $/, 'a root shell prompt');
      port.write('echo "H=$(hostname)"; exit\r');
      await expectText(new RegExp(`H=${d.name}\\r?\\n`), 'the device hostname');
      await expectText(/login: $/, 'a new login prompt after logout');
    } finally {
      await new Promise<void>((res) => port.close(() => res()));
    }
  });

  it('cuts and restores a device link', async () => {
    const d = lab.devices[1];
    await d.linkDown();
    await expect(sshBanner(d.ip, 22, 500)).rejects.toThrow();
    await d.linkUp();
    await waitFor('ssh after linkUp', async () => (await sshBanner(d.ip)).startsWith('SSH-2.0'), 10_000);
    await d.rateLimit(256);
    expect((await run(['tc', '-n', d.netns, 'qdisc', 'show', 'dev', 'eth0'])).stdout).toMatch(/tbf .*rate 256Kbit/);
    await d.rateLimit(null);
    expect((await run(['tc', '-n', d.netns, 'qdisc', 'show', 'dev', 'eth0'])).stdout).not.toMatch(/tbf/);
  });

  it('adds and removes a device at run time', async () => {
    const t0 = Date.now();
    const extra = await lab.addDevice({ name: 'late' });
    console.log(`addDevice (ssh only) took ${Date.now() - t0} ms`);
    expect((await ssh(extra, 'hostname')).stdout).toBe('late\n');
    await lab.removeDevice('late');
    expect(existsSync(extra.root)).toBe(false);
    expect(isAlive(extra.initPid)).toBe(false);
  });

  it('tears down everything it started', async () => {
    const pidFiles = lab.devices.flatMap((d) => ['holder', 'init', 'socat'].map((w) => join(lab.stateDir, 'pids', `${d.name}.${w}.pid`)));
    const pids = pidFiles.map(livePidFromFile).filter((p): p is number => p !== null);
    expect(pids.length).toBeGreaterThanOrEqual(7);
    const inits = lab.devices.map((d) => d.initPid);
    await lab.teardown();
    for (const p of [...pids, ...inits]) expect(isAlive(p)).toBe(false);
    const ns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(LAB_NETNS_PREFIX));
    expect(ns).toEqual([TECH_NETNS]);
    expect(existsSync(lab.stateDir)).toBe(false);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(lab.stateDir);
  });
});
