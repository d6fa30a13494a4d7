import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab';

// The CLI's SSH credential commands against a real sshd: first contact with the lab key and --yes, then the
// laptop's own key is installed and used alone.
let lab: Lab;
const bin = resolve(__dirname, '../../bin/outpost.mjs');
const home = mkdtempSync(join(tmpdir(), 'outpost-cli-ssh-'));

function outpost(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], { env: { ...process.env, OUTPOST_HOME: home }, encoding: 'utf8' });
  return { code: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown> & { error?: { kind: string; message: string } } };
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'keyed' }] });
});
afterAll(async () => {
  await lab?.teardown();
});

describe('outpost ssh install-key', () => {
  it('refuses an unknown host key without --yes, installs the laptop key with it, and is idempotent', async () => {
    const dev = lab.devices[0]!;
    const refused = outpost('ssh', 'install-key', dev.ip, '--identity', lab.clientKeyPath);
    expect(refused.code).toBe(3);
    expect(refused.json.error?.kind).toBe('host-key-unknown');

    const first = outpost('ssh', 'install-key', dev.ip, '--identity', lab.clientKeyPath, '--yes');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ installed: true, alreadyPresent: false, verified: true });
    const authorized = await dev.exec(['cat', '/root/.ssh/authorized_keys']);
    expect(authorized.stdout).toContain(String(first.json.publicKey).split(' ')[1]);

    const again = outpost('ssh', 'install-key', dev.ip, '--identity', lab.clientKeyPath);
    expect(again.json).toMatchObject({ alreadyPresent: true });
  });

  it('refuses to remember a password without a passphrase, before touching the device', () => {
    const pw = join(home, 'pw');
    writeFileSync(pw, 'secret\n', { mode: 0o600 });
    const r = spawnSync(process.execPath, [bin, 'ssh', 'install-key', lab.devices[0]!.ip, '--password-file', pw, '--remember', '--json'], {
      env: { ...process.env, OUTPOST_HOME: home, OUTPOST_PASSPHRASE: '' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.kind).toBe('invalid-input');
  });
});
