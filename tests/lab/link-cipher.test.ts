import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../../electron/core/app';
import { startLab, type Lab } from './lab';

// The SSH cipher is chosen for the device's CPU, read once over the link: a device without AES instructions (here
// emulated: sshd's OpenSSL with AES-NI masked, and a /proc/cpuinfo without the aes flag) gets ChaCha20-Poly1305,
// one with them AES-GCM. The choice is stored per device, shown by `devices get`, and used by later connections.
let lab: Lab;
const bin = resolve(__dirname, '../../bin/outpost.mjs');
const home = mkdtempSync(join(tmpdir(), 'outpost-cipher-'));

function outpost(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
  return { code: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown>, stderr: r.stderr };
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'pi5like' }, { name: 'pi4like', noAes: true }] });
});
afterAll(async () => {
  await lab?.teardown();
});

describe('a cipher for the device CPU', () => {
  it('emulates a CPU without AES on the masked device only', async () => {
    const masked = lab.device('pi4like');
    const plain = lab.device('pi5like');
    expect((await masked.exec(['cat', '/proc/cpuinfo'])).stdout).not.toMatch(/^flags\s*:.* aes( |$)/m);
    expect((await plain.exec(['cat', '/proc/cpuinfo'])).stdout).toMatch(/^flags\s*:.* aes( |$)/m);
    // sshd's own environ is overwritten by its process title; the init script sources this file before starting it.
    expect((await masked.exec(['cat', '/etc/default/ssh'])).stdout).toContain("export OPENSSL_ia32cap='~0x200000200000000'");
    expect((await plain.exec(['cat', '/etc/default/ssh'])).stdout).not.toContain('OPENSSL_ia32cap');
  });

  it('chooses ChaCha20-Poly1305 for the device without AES and AES-GCM for the other, stored and shown per device', () => {
    for (const [name, cipher, aes] of [['pi4like', 'chacha20-poly1305@openssh.com', false], ['pi5like', 'aes128-gcm@openssh.com', true]] as const) {
      const dev = lab.device(name);
      const scan = outpost('buffers', 'scan', dev.ip, '--identity', lab.clientKeyPath, '--yes');
      expect(scan.code, scan.stderr).toBe(0);
      const got = outpost('devices', 'get', dev.ip);
      expect(got.code).toBe(0);
      expect(got.json).toMatchObject({ ssh: { cipher, cpuAes: aes } });
    }
  });

  it('asks for the stored cipher on every later connection', async () => {
    const core = createCore({ dataDir: home, transport: 'in-process' });
    try {
      for (const [name, cipher] of [['pi4like', 'chacha20-poly1305@openssh.com'], ['pi5like', 'aes128-gcm@openssh.com']] as const) {
        const device = core.devices.find(lab.device(name).ip)!;
        const conn = await core.links.ssh(device, { identityFile: lab.clientKeyPath });
        expect(conn.cipher).toBe(cipher);
      }
    } finally {
      await core.close();
    }
  });
});
