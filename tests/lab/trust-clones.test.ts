// Cloned devices and moved devices against real sshd: two boxes flashed from one image (one host key, two MACs) stay
// two records with a shared-host-key warning until `outpost trust regenerate` gives one its own key (pinned in the
// same step); `--yes` never replaces a changed key; a device DHCP moved (same key, same MAC) is not asked about again.
// Run: OUTPOST_LAB_ID=trust bash tests/lab/in-lab.sh npx vitest run --project lab tests/lab/trust-clones.test.ts
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import { sshBanner, startLab, waitFor, type Lab } from './lab';

let lab: Lab;
let core: Core;
let api: Api;
const home = mkdtempSync(join(tmpdir(), 'outpost-clones-'));
const bin = resolve(__dirname, '../../bin/outpost.mjs');

/** The CLI on the same data dir as the in-process core (two processes sharing $OUTPOST_HOME, as on a laptop). */
function outpost(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, OUTPOST_HOME: home, OUTPOST_PASSPHRASE: '', SSH_AUTH_SOCK: '' }, encoding: 'utf8' });
  const json = args.includes('--json') ? (JSON.parse(r.stdout || 'null') as Record<string, unknown> & { error?: { kind: string; message: string } }) : null;
  return { code: r.status, json, stdout: r.stdout, stderr: r.stderr };
}

async function keyOnDevice(name: string): Promise<string> {
  const r = await lab.device(name).exec(['ssh-keygen', '-lf', '/etc/ssh/ssh_host_ed25519_key.pub']);
  const fp = /SHA256:[A-Za-z0-9+/]{43}/.exec(r.stdout)?.[0];
  if (!fp) throw new Error(`no fingerprint from ${name}: ${r.stdout} ${r.stderr}`);
  return fp;
}

const byIp = (ip: string): Device => {
  const d = core.devices.list().find((x) => x.addresses.includes(ip));
  if (!d) throw new Error(`no inventory record at ${ip}`);
  return d;
};

const scan = () => api.invoke('discovery:scan', { cidrs: [lab.subnet], mdns: false, interfaces: ['lab0'], timeoutMs: 1500 });

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'clone-a', hostKeyGroup: 'golden' }, { name: 'clone-b', hostKeyGroup: 'golden' }, { name: 'mover' }] });
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

describe('cloned devices', () => {
  it('keeps two boxes with one host key as two records, both warned about the shared key (API and CLI)', async () => {
    const [a, b] = [lab.device('clone-a'), lab.device('clone-b')];
    expect(a.hostKeyFingerprint).toBe(b.hostKeyFingerprint);
    await scan();
    await scan(); // a second pass must not fold them together either
    const [ra, rb] = [byIp(a.ip), byIp(b.ip)];
    expect(ra.id).not.toBe(rb.id);
    expect(ra.macs).toHaveLength(1);
    expect(ra.macs).not.toEqual(rb.macs);
    expect(ra.ssh.sharedHostKeyWith).toEqual([rb.id]);
    expect(rb.ssh.sharedHostKeyWith).toEqual([ra.id]);
    expect(byIp(lab.device('mover').ip).ssh.sharedHostKeyWith).toBeUndefined();
    const listed = outpost('devices', 'list');
    expect(listed.stdout.split('\n').filter((l) => l.includes('[SHARED HOST KEY]'))).toHaveLength(2);
  });

  it('regenerates one clone\'s host keys over its pinned link and pins the new key in the same step', async () => {
    const b = lab.device('clone-b');
    await api.invoke('trust:pin', { device: b.ip, fingerprint: b.hostKeyFingerprint });
    const r = outpost('trust', 'regenerate', b.ip, '--identity', lab.clientKeyPath, '--json');
    expect(r.code, r.stderr).toBe(0);
    const onDevice = await keyOnDevice('clone-b');
    expect(r.json).toMatchObject({ host: b.ip, previous: b.hostKeyFingerprint, fingerprint: onDevice, pinned: true, restartedVia: expect.stringMatching(/service ssh restart|init\.d\/ssh/) });
    expect(onDevice).not.toBe(b.hostKeyFingerprint);
    expect(await keyOnDevice('clone-a')).toBe(b.hostKeyFingerprint);
    expect(core.knownHosts.get(b.ip, 22)?.fingerprint).toBe(onDevice);
    // The backup of the old keys is gone once the new key was proven.
    expect((await b.exec(['sh', '-c', 'ls -d /etc/ssh/outpost-old-host-keys.* 2>/dev/null | wc -l'])).stdout.trim()).toBe('0');
    // The pinned new key just works: no trust options.
    const conn = await core.links.ssh(byIp(b.ip), { identityFile: lab.clientKeyPath });
    expect(conn.hostKeyFingerprint).toBe(onDevice);
    await scan();
    expect(byIp(b.ip).ssh).toMatchObject({ hostKeyFingerprint: onDevice });
    expect(byIp(b.ip).ssh.sharedHostKeyWith).toBeUndefined();
    expect(byIp(lab.device('clone-a').ip).ssh.sharedHostKeyWith).toBeUndefined();
    expect(byIp(lab.device('clone-a').ip).id).not.toBe(byIp(b.ip).id);
  });
});

describe('a changed host key never re-pins by habit', () => {
  it('refuses --yes on a changed key, re-pins only with --fingerprint of the new key; --yes still takes an unknown key', async () => {
    const b = lab.device('clone-b');
    const pinned = core.knownHosts.get(b.ip, 22)?.fingerprint;
    const reimage = await b.exec(['sh', '-c', 'rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key && /etc/init.d/ssh restart']);
    expect(reimage.code, reimage.stderr).toBe(0);
    const now = await keyOnDevice('clone-b');
    await waitFor('clone-b sshd back after the re-key', async () => (await sshBanner(b.ip).catch(() => '')).startsWith('SSH-2.0-'), 15_000);

    const yes = outpost('trust', b.ip, '--yes', '--json');
    expect(yes.code).toBe(3);
    expect(yes.json?.error).toMatchObject({ kind: 'host-key-changed', message: expect.stringContaining(`--fingerprint ${now}`) });
    expect(core.knownHosts.get(b.ip, 22)?.fingerprint).toBe(pinned);

    const wrong = outpost('trust', b.ip, '--fingerprint', pinned as string, '--json');
    expect(wrong.json?.error?.kind).toBe('host-key-changed');
    const right = outpost('trust', b.ip, '--fingerprint', now, '--json');
    expect(right.code).toBe(0);
    expect(right.json).toMatchObject({ pinned: true, fingerprint: now, previous: pinned });
    expect(core.knownHosts.get(b.ip, 22)?.fingerprint).toBe(now);

    const a = lab.device('clone-a');
    expect(core.knownHosts.get(a.ip, 22)).toBeUndefined();
    expect(outpost('trust', a.ip, '--yes', '--json').json).toMatchObject({ pinned: true, fingerprint: a.hostKeyFingerprint });
  });
});

describe('a device DHCP moved', () => {
  it('is followed to its new address (same key, same MAC) and not asked to be trusted again', async () => {
    const dev = lab.device('mover');
    const before = byIp(dev.ip);
    await api.invoke('trust:pin', { device: dev.ip, fingerprint: dev.hostKeyFingerprint });
    const prefix = lab.subnet.split('/')[1];
    const newIp = lab.subnet.split('/')[0]!.replace(/\.\d+$/, '.200');
    const move = await dev.exec([
      'sh',
      '-c',
      // The old address goes first: deleting a primary address also deletes the secondaries of its subnet.
      `ip addr del ${dev.ip}/${prefix} dev eth0 && ip addr add ${newIp}/${prefix} dev eth0 && sed -i 's/^ListenAddress .*/ListenAddress ${newIp}:22/' /etc/ssh/sshd_config && /etc/init.d/ssh restart`,
    ]);
    expect(move.code, move.stderr).toBe(0);
    await waitFor(`mover's sshd at ${newIp}`, async () => (await sshBanner(newIp).catch(() => '')).startsWith('SSH-2.0-'), 15_000);

    await scan();
    const after = byIp(newIp);
    expect(after.id).toBe(before.id);
    expect(after.addresses[0]).toBe(newIp);
    expect(after.macs).toEqual(before.macs);
    expect(core.knownHosts.get(newIp, 22)).toBeUndefined();
    // The key offered at the new address is the one pinned for this device: shown as pinned, connected without asking.
    expect(await api.invoke('trust:pin', { device: after.id })).toMatchObject({ host: newIp, fingerprint: dev.hostKeyFingerprint, previous: dev.hostKeyFingerprint });
    await core.ssh.closeAll();
    const conn = await core.links.ssh(after, { identityFile: lab.clientKeyPath });
    expect(conn.hostKeyFingerprint).toBe(dev.hostKeyFingerprint);
    expect(core.knownHosts.get(newIp, 22)?.fingerprint).toBe(dev.hostKeyFingerprint);
  });
});
