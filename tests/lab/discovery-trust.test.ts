// Trust on first use against real sshd: a device whose host key changes is refused with host-key-changed until
// the new key is re-pinned through trust:pin; ssh:install-key puts the laptop key in authorized_keys via stdin.
// Run: OUTPOST_LAB_ID=disc bash tests/lab/in-lab.sh npx vitest run --project lab tests/lab/discovery-trust.test.ts
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import type { Api, Device } from '../../shared/contract';
import { startLab, waitFor, sshBanner, type Lab } from './lab';

let lab: Lab;
let core: Core;
let api: Api;

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'rekeyed' }, { name: 'fresh' }] });
  core = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-trust-')), transport: 'in-process' });
  api = inProcessApi(core);
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

async function fingerprintOnDevice(name: string): Promise<string> {
  const r = await lab.device(name).exec(['ssh-keygen', '-lf', '/etc/ssh/ssh_host_ed25519_key.pub']);
  const fp = /SHA256:[A-Za-z0-9+/]{43}/.exec(r.stdout)?.[0];
  if (!fp) throw new Error(`no fingerprint from ssh-keygen on ${name}: ${r.stdout} ${r.stderr}`);
  return fp;
}

describe('trust on first use', () => {
  it('shows a key without pinning it, refuses a wrong expected fingerprint, pins the right one', async () => {
    const dev = lab.device('fresh');
    const shown = await api.invoke('trust:pin', { device: dev.ip });
    expect(shown).toMatchObject({ host: dev.ip, port: 22, fingerprint: dev.hostKeyFingerprint, pinned: false });
    expect(await api.invoke('trust:list', {})).toEqual([]);
    const wrong = `SHA256:${'A'.repeat(43)}`;
    await expect(api.invoke('trust:pin', { device: dev.ip, fingerprint: wrong })).rejects.toMatchObject({ kind: 'host-key-changed' });
    const pinned = await api.invoke('trust:pin', { device: dev.ip, fingerprint: dev.hostKeyFingerprint });
    expect(pinned.pinned).toBe(true);
    expect((await api.invoke('trust:list', {})).map((k) => [k.host, k.fingerprint])).toEqual([[dev.ip, dev.hostKeyFingerprint]]);
  });

  it('blocks DeviceLinks.ssh with host-key-changed after the device is re-keyed, until re-pinned', async () => {
    const dev = lab.device('rekeyed');
    const device: Device = core.devices.add({ name: 'rekeyed', host: dev.ip });
    const opts = { identityFile: lab.clientKeyPath };
    await api.invoke('trust:pin', { device: device.id, yes: true });
    const first = await core.links.ssh(device, opts);
    expect(first.hostKeyFingerprint).toBe(dev.hostKeyFingerprint);

    // Re-image: a new host key and a restarted sshd, as after a device swap or a reflash.
    const regen = await dev.exec(['sh', '-c', 'rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub && ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key && /etc/init.d/ssh restart']);
    expect(regen.code, regen.stderr).toBe(0);
    const newFingerprint = await fingerprintOnDevice('rekeyed');
    expect(newFingerprint).not.toBe(dev.hostKeyFingerprint);
    await waitFor('the re-keyed sshd answering again', async () => (await sshBanner(dev.ip).catch(() => '')).startsWith('SSH-2.0-'), 15_000);
    await core.ssh.closeAll();

    const refused = core.links.ssh(device, opts);
    await expect(refused).rejects.toMatchObject({ kind: 'host-key-changed' });
    const message = await refused.catch((e: Error) => e.message);
    expect(message).toContain(dev.hostKeyFingerprint);
    expect(message).toContain(newFingerprint);
    // Still refused when asked again: nothing was silently re-pinned.
    await expect(core.links.ssh(device, opts)).rejects.toMatchObject({ kind: 'host-key-changed' });

    const repinned = await api.invoke('trust:pin', { device: device.id, fingerprint: newFingerprint });
    expect(repinned).toMatchObject({ pinned: true, previous: dev.hostKeyFingerprint, fingerprint: newFingerprint });
    const conn = await core.links.ssh(core.devices.get(device.id), opts);
    expect(conn.hostKeyFingerprint).toBe(newFingerprint);
    expect(core.devices.get(device.id).ssh.hostKeyFingerprint).toBe(newFingerprint);
  });

  it('installs the laptop key over an authenticated connection and then logs in with it alone', async () => {
    const dev = lab.device('fresh');
    const device = core.devices.add({ name: 'fresh', host: dev.ip });
    // The laptop key is made in the vault, encrypted: without a passphrase there is none to install.
    await expect(api.invoke('ssh:install-key', { device: device.id, identityFile: lab.clientKeyPath })).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringMatching(/passphrase/) });
    await api.invoke('vault:unlock', { passphrase: 'lab vault passphrase' });
    // Cancelled while the device does not answer (its link is down): it stops at once and nothing changes there.
    await dev.linkDown();
    try {
      const installing = api.invoke('ssh:install-key', { device: device.id, identityFile: lab.clientKeyPath });
      installing.catch(() => undefined);
      await waitFor('the key install to run as a job', async () => (await api.invoke('jobs:list', {})).jobs.some((j) => j.kind === 'key-install' && j.deviceIds.includes(device.id)), 10_000);
      const cancelledAt = Date.now();
      expect((await api.invoke('jobs:cancel', { kind: 'key-install', deviceId: device.id })).cancelled).toHaveLength(1);
      await expect(installing).rejects.toMatchObject({ kind: 'cancelled', message: expect.stringMatching(/nothing was changed/) });
      expect(Date.now() - cancelledAt).toBeLessThan(3_000);
    } finally {
      await dev.linkUp();
    }
    const publicKey = core.laptopKey.publicKey() as string;
    expect((await dev.exec(['sh', '-c', 'cat /root/.ssh/authorized_keys 2>/dev/null; true'])).stdout).not.toContain(publicKey.split(' ')[1]);
    const first = await api.invoke('ssh:install-key', { device: device.id, identityFile: lab.clientKeyPath });
    expect(first).toMatchObject({ installed: true, alreadyPresent: false, verified: true });
    expect(first.publicKey).toMatch(/^ssh-ed25519 /);
    const keys = await dev.exec(['cat', '/root/.ssh/authorized_keys']);
    expect(keys.stdout.split('\n').filter((l) => l === first.publicKey)).toHaveLength(1);
    const again = await api.invoke('ssh:install-key', { device: device.id, identityFile: lab.clientKeyPath });
    expect(again).toMatchObject({ installed: false, alreadyPresent: true, verified: true });
    expect((await dev.exec(['cat', '/root/.ssh/authorized_keys'])).stdout.split('\n').filter((l) => l === first.publicKey)).toHaveLength(1);
  });

  it('refuses to remember a password without a passphrase, and forgets a pinned key on request', async () => {
    const dev = lab.device('fresh');
    const device = core.devices.find(dev.ip) as Device;
    delete process.env.OUTPOST_PASSPHRASE;
    await api.invoke('vault:lock', {});
    await expect(api.invoke('ssh:install-key', { device: device.id, identityFile: lab.clientKeyPath, password: 'x', rememberPassword: true })).rejects.toMatchObject({ kind: 'invalid-input' });
    expect(await api.invoke('trust:forget', { device: dev.ip })).toEqual({ forgotten: true });
    expect((await api.invoke('trust:list', {})).some((k) => k.host === dev.ip)).toBe(false);
  });
});
