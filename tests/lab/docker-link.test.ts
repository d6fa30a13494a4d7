import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../electron/core/app';
import type { Device } from '../../shared/contract';
import { importBusyboxImage, startLab, type Lab } from './lab';

// Proof the lab is real: three devices, each reached over SSH from the technician netns, each device's dockerd
// driven through ONE persistent SSH connection (engine socket forwarded with streamlocal), a container run
// and its output read back.
let lab: Lab;
let core: Core;
const IMAGE = 'outpost/busybox:lab';

beforeAll(async () => {
  lab = await startLab({ devices: ['gw-a', 'gw-b', 'gw-c'].map((name) => ({ name, docker: true })) });
  await Promise.all(lab.devices.map((d) => importBusyboxImage(d, IMAGE)));
  core = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-link-')), transport: 'in-process' });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
});

async function established(device: Lab['devices'][number]): Promise<number> {
  const out = await device.exec(['ss', '-Htn', 'state', 'established', '( sport = :22 )']);
  return out.stdout.split('\n').filter((l) => l.trim()).length;
}

describe('docker over one persistent SSH connection per device', () => {
  it('runs a container on each of three devices and reads its output', async () => {
    const results = await Promise.all(
      lab.devices.map(async (labDevice) => {
        const device: Device = core.devices.add({ name: labDevice.name, host: labDevice.ip });
        const docker = await core.links.docker(device, { identityFile: lab.clientKeyPath, acceptNewHostKey: true });
        const out = new PassThrough();
        let text = '';
        out.on('data', (c: Buffer) => (text += c.toString()));
        const [status] = (await docker.run(IMAGE, ['sh', '-c', 'echo "hello from $(hostname)"'], out, { HostConfig: { NetworkMode: 'host', AutoRemove: false } })) as [
          { StatusCode: number },
        ];
        return { labDevice, device, status, text };
      }),
    );
    for (const { labDevice, device, status, text } of results) {
      expect(status.StatusCode).toBe(0);
      expect(text.trim()).toBe(`hello from ${labDevice.hostname}`);
      // The host key was pinned on first use, and it is the device's own.
      expect(core.knownHosts.get(labDevice.ip, 22)?.fingerprint).toBe(labDevice.hostKeyFingerprint);
      expect(core.devices.get(device.id).ssh.hostKeyFingerprint).toBe(labDevice.hostKeyFingerprint);
    }
  });

  it('keeps every API call on the same single SSH connection', async () => {
    const labDevice = lab.devices[0]!;
    const device = core.devices.find(labDevice.name)!;
    const docker = await core.links.docker(device, { identityFile: lab.clientKeyPath });
    for (let i = 0; i < 25; i++) expect((await docker.ping()).toString()).toBe('OK');
    const containers = await docker.listContainers({ all: true });
    expect(containers.length).toBeGreaterThan(0);
    expect(await established(labDevice)).toBe(1);
  });

  it('refuses a device whose host key changed since it was pinned', async () => {
    const labDevice = lab.devices[1]!;
    const device = core.devices.find(labDevice.name)!;
    // Pretend we had pinned another key for this address: the real key now looks "changed".
    core.knownHosts.pin(labDevice.ip, 22, Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIGZha2Uta2V5LWZvci10ZXN0aW5nLW9ubHktMDEyMzQ1', 'base64'));
    core.ssh.drop(core.links.targetFor(device, { identityFile: lab.clientKeyPath }));
    await expect(core.links.ssh(device, { identityFile: lab.clientKeyPath, acceptNewHostKey: true })).rejects.toMatchObject({
      kind: 'host-key-changed',
      details: { actual: labDevice.hostKeyFingerprint },
    });
    // An explicit re-pin with the fingerprint the technician checked lets it through again.
    const conn = await core.links.ssh(device, { identityFile: lab.clientKeyPath, expectedFingerprint: labDevice.hostKeyFingerprint });
    expect(conn.hostKeyFingerprint).toBe(labDevice.hostKeyFingerprint);
  });

  it('refuses an unknown host key unless the technician accepts it', async () => {
    const labDevice = lab.devices[2]!;
    const fresh = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-link-')), transport: 'in-process' });
    try {
      const device = fresh.devices.add({ host: labDevice.ip });
      await expect(fresh.links.ssh(device, { identityFile: lab.clientKeyPath })).rejects.toMatchObject({
        kind: 'host-key-unknown',
        details: { fingerprint: labDevice.hostKeyFingerprint },
      });
      expect(fresh.knownHosts.get(labDevice.ip, 22)).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});
