// Discovery against the real lab: 22 devices (two announcing through real avahi-daemon, the rest reachable
// only by the sweep), live joins and departures, hostile mDNS and SSH banners, and the CLI.
// Run: OUTPOST_LAB_ID=disc bash tests/lab/in-lab.sh npx vitest run --project lab tests/lab/discovery.test.ts
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import { malformedPackets, response, sendMdns, serviceAnswers } from './discovery-fake-responder';
import { startLab, waitFor, type Lab, type LabDevice } from './lab';

const SWEEP_ONLY = 20;
let lab: Lab;
let core: Core;
let api: Api;
const servers: Server[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  lab = await startLab({
    devices: [
      { name: 'pi-avahi', avahi: true, serial: true, services: [{ type: '_outpost._tcp', port: 8443, txt: { site: 'north', role: 'gateway' } }] },
      { name: 'gw-avahi', avahi: true },
      ...Array.from({ length: SWEEP_ONLY }, (_, i) => ({ name: `edge-${String(i).padStart(2, '0')}` })),
    ],
  });
  core = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-disc-')), transport: 'in-process' });
  api = inProcessApi(core);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await core?.close();
  await lab?.teardown();
});

const prefix = () => lab.techIp.split('.').slice(0, 3).join('.');
const byAddress = (devices: Device[], ip: string) => devices.filter((d) => d.addresses.includes(ip));
const inventory = () => core.devices.list();

function expectFound(devices: Device[], dev: LabDevice): Device {
  const found = byAddress(devices, dev.ip);
  expect(found, `one record for ${dev.name} at ${dev.ip}`).toHaveLength(1);
  const d = found[0] as Device;
  expect(d.ssh.hostKeyFingerprint).toBe(dev.hostKeyFingerprint);
  expect(d.ssh.banner).toMatch(/^SSH-2\.0-OpenSSH/);
  expect(d.macs[0]).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  expect(d.state).toBe('online');
  return d;
}

describe('discovery:scan over the lab', () => {
  it('finds every lab device in one pass, with host keys, MACs, mDNS services and the serial console', async () => {
    const serialPath = lab.device('pi-avahi').serialPath as string;
    const result = await api.invoke('discovery:scan', { cidrs: [lab.subnet], interfaces: ['lab0'], serial: true, serialPaths: [serialPath] });
    for (const dev of lab.devices) expectFound(result.devices, dev);

    const avahi = expectFound(result.devices, lab.device('pi-avahi'));
    expect(avahi.sources).toEqual(expect.arrayContaining(['mdns', 'sweep']));
    expect(avahi.hostnames).toContain(`${lab.device('pi-avahi').hostname}.local`);
    expect(avahi.name).toBe(lab.device('pi-avahi').hostname);
    expect(avahi.services).toEqual(expect.arrayContaining([{ type: '_outpost._tcp', port: 8443, txt: { site: 'north', role: 'gateway' } }]));
    expect(avahi.services.some((s) => s.type === '_ssh._tcp' && s.port === 22)).toBe(true);

    const sweepOnly = expectFound(result.devices, lab.device('edge-07'));
    expect(sweepOnly.sources).toEqual(['sweep']);
    expect(sweepOnly.hostnames).toEqual([]);

    expect(result.devices.filter((d) => d.serialPath === serialPath)).toHaveLength(1);
    // Nothing else: no phantom devices, no technician laptop.
    expect(result.devices.filter((d) => d.addresses.length > 0)).toHaveLength(lab.devices.length);
    expect(byAddress(result.devices, lab.techIp)).toEqual([]);
  });

  it('a second pass keeps one record per device and the technician’s name, tags and notes', async () => {
    const dev = lab.device('edge-03');
    const before = byAddress(inventory(), dev.ip)[0] as Device;
    await api.invoke('devices:update', { id: before.id, name: 'Chiller PLC', tags: { site: 'plant-3' }, notes: 'behind panel B' });
    const result = await api.invoke('discovery:scan', { cidrs: [lab.subnet], interfaces: ['lab0'], mdns: false });
    expect(result.devices).toHaveLength(lab.devices.length);
    expect(inventory().filter((d) => d.addresses.length > 0)).toHaveLength(lab.devices.length);
    expect(byAddress(inventory(), dev.ip)[0]).toMatchObject({ id: before.id, name: 'Chiller PLC', tags: { site: 'plant-3' }, notes: 'behind panel B' });
  });

  it('a cancelled scan returns at once with what it found so far, and marks nobody gone', async () => {
    const args = { cidrs: [lab.subnet], interfaces: ['lab0'], mdns: false, timeoutMs: 4_000 };
    // Every address without a device keeps its knock open until ARP gives up (or the timeout): a full pass takes seconds.
    const full = await api.invoke('discovery:scan', args);
    expect(full.cancelled).toBeFalsy();
    let answered = 0;
    const off = api.on('discovery:progress', ({ done }) => (answered = done));
    const scanning = api.invoke('discovery:scan', args);
    let cancelledAt = 0;
    try {
      await waitFor('the sweep to hear from the lab devices', async () => answered > 0, 10_000);
      cancelledAt = Date.now();
      expect((await api.invoke('jobs:cancel', { kind: 'scan' })).cancelled).toHaveLength(1);
    } finally {
      off();
    }
    const partial = await scanning;
    const cancelMs = Date.now() - cancelledAt;
    expect(partial.cancelled).toBe(true);
    // A full pass waits out every silent address (seconds); a cancelled one only unwinds (tens of ms when idle).
    expect(cancelMs).toBeLessThan(3_000);
    expect(partial.stats.elapsedMs).toBeLessThan(full.stats.elapsedMs);
    // What it found: lab devices only, each one already known (merged, not duplicated).
    const labIps = new Set(lab.devices.map((d) => d.ip));
    expect(partial.devices.length).toBeGreaterThan(0);
    for (const d of partial.devices) expect(labIps.has(d.addresses[0] ?? '')).toBe(true);
    expect(inventory().filter((d) => d.addresses.length > 0)).toHaveLength(lab.devices.length);
    // An incomplete sweep proves no absence: every device stays online.
    expect(inventory().filter((d) => d.addresses.length > 0 && d.state !== 'online')).toEqual([]);
    console.log(`scan: a full pass ${full.stats.elapsedMs} ms; cancelled after the first answers: returned ${cancelMs} ms after the cancel with ${partial.devices.length}/${lab.devices.length} devices`);
  });

  it('refuses an oversized CIDR with invalid-input', async () => {
    await expect(api.invoke('discovery:scan', { cidrs: ['10.0.0.0/8'] })).rejects.toMatchObject({ kind: 'invalid-input' });
    await expect(api.invoke('discovery:scan', { cidrs: ['not-a-cidr'] })).rejects.toMatchObject({ kind: 'invalid-input' });
  });
});

/** A TCP server on a loopback address of the technician netns, port 22, that misbehaves as asked. */
async function hostileSsh(address: string, onConnection: (s: Socket) => void): Promise<void> {
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onConnection(s);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(22, address, resolve);
  });
}

describe('hostile devices', () => {
  it('neither crashes nor poisons on huge, escape-laden, binary and never-ending SSH banners', async () => {
    await hostileSsh('127.0.0.2', (s) => s.write(`SSH-2.0-\u001b[2J\u001b]0;owned\u0007EVIL${'A'.repeat(200_000)}\r\n`));
    await hostileSsh('127.0.0.3', (s) => {
      const junk = Buffer.alloc(64 * 1024, 0x1b);
      const pump = () => {
        while (!s.destroyed && s.write(junk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    await hostileSsh('127.0.0.4', (s) => s.end(Buffer.from([0xff, 0x00, 0xfe, 0x0a])));
    const result = await api.invoke('discovery:scan', { cidrs: ['127.0.0.2/32', '127.0.0.3/32', '127.0.0.4/32'], ports: [22], mdns: false, timeoutMs: 600 });
    const banners = result.devices.map((d) => d.ssh.banner);
    expect(result.devices).toHaveLength(3);
    expect(result.devices.every((d) => d.ssh.hostKeyFingerprint === undefined)).toBe(true);
    const evil = byAddress(result.devices, '127.0.0.2')[0];
    expect(evil?.ssh.banner?.startsWith('SSH-2.0-EVIL')).toBe(true);
    for (const b of banners) {
      expect((b ?? '').length).toBeLessThanOrEqual(255);
      expect([...(b ?? '')].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    }
    // The real devices are untouched.
    expectFound(inventory(), lab.device('edge-01'));
  });
});

describe('continuous browse', () => {
  beforeAll(async () => {
    await api.invoke('discovery:start', { interfaces: ['lab0'], livenessIntervalMs: 400, serialPollMs: 0 });
  });
  afterAll(async () => {
    await api.invoke('discovery:stop', {});
  });

  it('shrugs off malformed mDNS packets from a fake responder and keeps the inventory clean', async () => {
    // What a forged or broken packet could corrupt (lastSeen moves on with every genuine announcement).
    const identity = (ds: Device[]) => JSON.stringify(ds.map(({ id, name, hostnames, addresses, macs, services, ssh }) => ({ id, name, hostnames, addresses, macs, services, ssh })));
    const before = identity(byAddress(inventory(), lab.device('gw-avahi').ip));
    await sendMdns(lab.techIp, malformedPackets(prefix()));
    // A well-formed canary sent after the junk: once it is in, every earlier packet was processed.
    await sendMdns(lab.techIp, [response(serviceAnswers('canary', `${prefix()}.243`))]);
    await waitFor('the canary announcement in the inventory', async () => inventory().some((d) => d.hostnames.includes('canary.local')), 10_000);
    const names = inventory().flatMap((d) => d.hostnames);
    expect(names).not.toContain('truncated.local');
    expect(names).not.toContain('wrongclass.local');
    const big = inventory().find((d) => d.hostnames.includes('bigtxt.local'));
    if (big) {
      const txt = big.services[0]?.txt ?? {};
      expect(Object.keys(txt).length).toBeLessThanOrEqual(32);
      expect(Object.values(txt).every((v) => v.length <= 255 && !v.includes('\u001b'))).toBe(true);
    }
    const after = byAddress(inventory(), lab.device('gw-avahi').ip);
    expect(after).toHaveLength(1);
    expect(identity(after)).toBe(before);
    expect(after[0]?.ssh.hostKeyFingerprint).toBe(lab.device('gw-avahi').hostKeyFingerprint);
  });

  it('keeps the IPv6 link-local addresses avahi devices announce in AAAA records', async () => {
    const dev = lab.device('gw-avahi');
    const v6 = () => byAddress(inventory(), dev.ip)[0]?.addresses.filter((a) => a.includes(':')) ?? [];
    await waitFor('an IPv6 address for gw-avahi from its AAAA records', async () => v6().length > 0, 15_000);
    const linkLocal = (await dev.exec(['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
    expect(v6().some((a) => linkLocal.includes(a.split('%')[0] as string))).toBe(true);
  });

  it('shows a device that joins, and marks it stale when it leaves', async () => {
    const late = await lab.addDevice({ name: 'late-avahi', avahi: true });
    await waitFor('late-avahi announced by avahi and online in the inventory', async () => inventory().some((d) => d.hostnames.includes(`${late.hostname}.local`) && d.state === 'online'), 20_000);
    const joined = inventory().find((d) => d.hostnames.includes(`${late.hostname}.local`)) as Device;
    expect(joined.addresses).toContain(late.ip);
    expect(joined.sources).toContain('mdns');
    await lab.removeDevice('late-avahi');
    await waitFor('late-avahi stale after it left', async () => core.devices.get(joined.id).state === 'stale', 20_000);
  });

  it('marks a device whose link dies stale, and online again when it returns', async () => {
    const dev = lab.device('edge-05');
    const id = (byAddress(inventory(), dev.ip)[0] as Device).id;
    const changed: string[][] = [];
    const off = api.on('devices:changed', ({ ids }) => changed.push(ids));
    await dev.linkDown();
    await waitFor(`${dev.name} stale after its link went down`, async () => core.devices.get(id).state === 'stale', 20_000);
    await dev.linkUp();
    await waitFor(`${dev.name} online after its link came back`, async () => core.devices.get(id).state === 'online', 20_000);
    off();
    expect(changed.some((ids) => ids.includes(id))).toBe(true);
  });
});

function runCli(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/outpost.mjs', ...args], { env: { ...process.env, OUTPOST_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('outpost discover (CLI)', () => {
  it('prints the lab devices with host keys matching the lab', async () => {
    const home = mkdtempSync(join(tmpdir(), 'outpost-cli-disc-'));
    const r = await runCli(['discover', '--cidr', lab.subnet, '--json'], home);
    expect(r.code, r.stderr).toBe(0);
    const devices = JSON.parse(r.stdout) as Array<{ addresses: string[]; ssh: { hostKeyFingerprint?: string; banner?: string }; sources: string[]; services: unknown[]; macs: string[]; docker: unknown }>;
    for (const dev of lab.devices) {
      const found = devices.filter((d) => d.addresses.includes(dev.ip));
      expect(found, dev.name).toHaveLength(1);
      expect(found[0]?.ssh.hostKeyFingerprint).toBe(dev.hostKeyFingerprint);
      expect(found[0]).toHaveProperty('docker');
    }
  });

  it('refuses an oversized CIDR with kind invalid-input and exit code 2', async () => {
    const r = await runCli(['discover', '--cidr', '10.0.0.0/8', '--json'], mkdtempSync(join(tmpdir(), 'outpost-cli-disc-')));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'invalid-input' } });
  });
});

describe('live re-sweep', () => {
  it('shows a device that never announces itself, while browsing, without a scan', async () => {
    const progress: unknown[] = [];
    const off = api.on('discovery:progress', (p) => progress.push(p));
    await api.invoke('discovery:start', { interfaces: ['lab0'], livenessIntervalMs: 5_000, serialPollMs: 0, sweepIntervalMs: 300, cidrs: [lab.subnet] });
    try {
      const quiet = await lab.addDevice({ name: 'late-quiet' }); // sshd only: no avahi, reachable by a sweep alone
      await waitFor('late-quiet swept into the inventory with its host key', async () => byAddress(inventory(), quiet.ip).some((d) => d.sources.includes('sweep') && d.ssh.hostKeyFingerprint === quiet.hostKeyFingerprint), 15_000);
      expect(byAddress(inventory(), quiet.ip)).toHaveLength(1);
      // Background sweeps leave the scan progress bar to the scans the technician starts.
      expect(progress).toEqual([]);
      await lab.removeDevice('late-quiet');
    } finally {
      off();
      await api.invoke('discovery:stop', {});
    }
  });
});

describe('serial hot-plug', () => {
  it('reports a console cable plugged in and pulled, and keeps the port in the inventory, stale once gone', async () => {
    // A device added later: its console pty appears at a path known in advance, like /dev/ttyUSB0 would.
    const path = join(lab.stateDir, 'd', 'hot-serial', 'ttyS0');
    const events: Array<{ added: string[]; removed: string[] }> = [];
    const off = api.on('discovery:serial-changed', (e) => events.push(e));
    await api.invoke('discovery:start', { interfaces: ['lab0'], livenessIntervalMs: 5_000, serialPollMs: 100, serialPaths: [path] });
    try {
      const dev = await lab.addDevice({ name: 'hot-serial', ssh: false, serial: true });
      expect(dev.serialPath).toBe(path);
      await waitFor('the plugged-in console in the inventory', async () => inventory().some((d) => d.serialPath === path && d.state === 'online'), 10_000);
      expect(events).toContainEqual({ added: [path], removed: [] });
      await lab.removeDevice('hot-serial');
      await waitFor('the pulled console reported as removed', async () => events.some((e) => e.removed.includes(path)), 10_000);
      await waitFor('the pulled console stale in the inventory', async () => inventory().find((d) => d.serialPath === path)?.state === 'stale', 10_000);
      expect(inventory().filter((d) => d.serialPath === path)).toHaveLength(1);
    } finally {
      off();
      await api.invoke('discovery:stop', {});
    }
  });
});
