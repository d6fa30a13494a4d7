import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, waitFor, type Lab } from './lab';

// The CLI's SSH credential commands against a real sshd: first contact with the lab key and --yes, then the
// laptop's own key is installed and used alone.
let lab: Lab;
const bin = resolve(__dirname, '../../bin/outpost.mjs');
const home = mkdtempSync(join(tmpdir(), 'outpost-cli-ssh-'));

// The laptop key is made encrypted in the vault, so the CLI needs the vault passphrase (a file here).
const passphraseFile = join(home, 'passphrase');
writeFileSync(passphraseFile, 'lab vault passphrase\n', { mode: 0o600 });

function outpost(...args: string[]) {
  return outpostIn(home, ...args);
}

function outpostIn(dataDir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--passphrase-file', passphraseFile, '--json'], { env: { ...process.env, OUTPOST_HOME: dataDir, OUTPOST_PASSPHRASE: '' }, encoding: 'utf8' });
  return { code: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown> & { error?: { kind: string; message: string } } };
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'keyed' }] });
});
let agent: ChildProcess | undefined;
afterAll(async () => {
  if (agent?.pid) process.kill(agent.pid);
  await lab?.teardown();
});

/** Runs the CLI with exactly this environment on top of the lab's (no passphrase unless given). */
function outpostEnv(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], { env: { ...process.env, OUTPOST_PASSPHRASE: '', SSH_AUTH_SOCK: '', ...env }, encoding: 'utf8' });
  return { code: r.status, json: JSON.parse(r.stdout || 'null') as Record<string, unknown> & { error?: { kind: string; message: string } }, stderr: r.stderr };
}

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

  it('uses the technician\'s ssh-agent while the laptop key is locked, and says how to unlock when there is none', async () => {
    const ip = lab.devices[0]!.ip;
    const locked = outpostEnv({ OUTPOST_HOME: home }, 'buffers', 'scan', ip);
    expect(locked.code).toBe(3);
    expect(locked.json.error).toMatchObject({ kind: 'auth', message: expect.stringMatching(/locked in the vault/) });

    const sock = join(home, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    await waitFor('ssh-agent socket', async () => existsSync(sock), 10_000);
    const added = spawnSync('ssh-add', [lab.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
    expect(added.status, added.stderr).toBe(0);
    const viaAgent = outpostEnv({ OUTPOST_HOME: home, SSH_AUTH_SOCK: sock }, 'buffers', 'scan', ip);
    expect(viaAgent.code, JSON.stringify(viaAgent.json)).toBe(0);
  });

  it('expands ~ in --identity (the UI\'s own placeholder is ~/.ssh/id_ed25519)', () => {
    const fakeHome = mkdtempSync(join(tmpdir(), 'outpost-tilde-'));
    mkdirSync(join(fakeHome, '.ssh'), { mode: 0o700 });
    copyFileSync(lab.clientKeyPath, join(fakeHome, '.ssh', 'id_ed25519'));
    const r = outpostEnv({ OUTPOST_HOME: home, HOME: fakeHome }, 'buffers', 'scan', lab.devices[0]!.ip, '--identity', '~/.ssh/id_ed25519');
    expect(r.code, JSON.stringify(r.json)).toBe(0);
  });

  it('moves a plain laptop key from before into the vault on first unlock, and keeps logging in with it', async () => {
    const dev = lab.devices[0]!;
    const oldHome = mkdtempSync(join(tmpdir(), 'outpost-oldkey-'));
    mkdirSync(join(oldHome, 'keys'), { mode: 0o700 });
    const keyPath = join(oldHome, 'keys', 'id_ed25519');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'outpost-laptop', '-f', keyPath]).status).toBe(0);
    const pub = readFileSync(`${keyPath}.pub`, 'utf8').trim();
    await dev.exec(['sh', '-c', `printf '%s\\n' '${pub}' >> /root/.ssh/authorized_keys`]);
    expect(outpostEnv({ OUTPOST_HOME: oldHome }, 'trust', dev.ip, '--yes').code).toBe(0);
    // Before any unlock the plain key still works.
    expect(outpostEnv({ OUTPOST_HOME: oldHome }, 'buffers', 'scan', dev.ip).code).toBe(0);
    expect(existsSync(keyPath)).toBe(true);
    const unlocked = outpostEnv({ OUTPOST_HOME: oldHome, OUTPOST_PASSPHRASE: 'first unlock' }, 'vault', 'status');
    expect(unlocked.json).toMatchObject({ unlocked: true, laptopKey: 'encrypted' });
    expect(existsSync(keyPath)).toBe(false);
    expect(readFileSync(`${keyPath}.pub`, 'utf8').trim()).toBe(pub);
    expect(outpostEnv({ OUTPOST_HOME: oldHome, OUTPOST_PASSPHRASE: 'first unlock' }, 'buffers', 'scan', dev.ip).code).toBe(0);
    const wrong = outpostEnv({ OUTPOST_HOME: oldHome, OUTPOST_PASSPHRASE: 'first unlokc' }, 'vault', 'status');
    expect(wrong.code).toBe(3);
    expect(wrong.json.error).toMatchObject({ kind: 'auth', message: expect.stringMatching(/wrong vault passphrase/) });
  });
});

describe('<device> conventions over a real link', () => {
  it('buffers config adds an unknown address, checks the spool directories on the device, and the device keeps its key', () => {
    // A fresh laptop: its own key is not installed anywhere, so only the device's key file can log in.
    const laptop = mkdtempSync(join(tmpdir(), 'outpost-cli-link-'));
    const dev = lab.devices[0]!;
    const config = outpostIn(laptop, 'buffers', 'config', dev.ip, '--spool', '/var/spool/outpost', '--spool', '/var/spool/not-here', '--identity', lab.clientKeyPath, '--yes');
    expect(config.code).toBe(0);
    // The device has the first spool directory, not the second, and no outbox (the default one stays configured).
    expect(config.json).toMatchObject({ spools: ['/var/spool/outpost', '/var/spool/not-here'], check: { reached: true, missing: ['/var/spool/not-here', '/var/lib/outpost/outbox.db'] } });
    // Kept with the device: from now on every command and view uses this key for it.
    const updated = outpostIn(laptop, 'devices', 'update', dev.ip, '--identity', lab.clientKeyPath).json as { ssh: { identityFile?: string } };
    expect(updated.ssh.identityFile).toBe(lab.clientKeyPath);

    // No --identity now: the inventory's key for this device is used.
    const scan = outpostIn(laptop, 'buffers', 'scan', dev.ip);
    expect(scan.code).toBe(0);
    expect(scan.json).toMatchObject({ missing: ['/var/spool/not-here', '/var/lib/outpost/outbox.db'] });
    // The CLI's flush writes through the segment writer thread (started from the CLI bundle).
    mkdirSync(join(dev.spoolDir, 'cli', 'ready'), { recursive: true });
    writeFileSync(join(dev.spoolDir, 'cli', 'ready', 'seg-1'), 'one segment from the CLI\n');
    const flushed = outpostIn(laptop, 'flush', dev.ip);
    expect(flushed.code, JSON.stringify(flushed.json)).toBe(0);
    expect(flushed.json).toMatchObject({ devices: [{ streams: { cli: { segments: 1 } } }] });
    // And the per-run override wins over it: a key that does not exist is reported, not silently replaced.
    const overridden = outpostIn(laptop, 'buffers', 'scan', dev.ip, '--identity', join(laptop, 'no-such-key'));
    expect(overridden.json.error?.kind).toBe('invalid-input');
  });

  it('a command on an address never seen uses the site default user and key; --user overrides them for one run', async () => {
    const dev = lab.devices[0]!;
    // A login that only the site key opens: user fieldtech, its own authorized_keys (not the lab's global file's key).
    const laptop = mkdtempSync(join(tmpdir(), 'outpost-cli-site-'));
    const siteKey = join(laptop, 'site_ed25519');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'site-key', '-f', siteKey]).status).toBe(0);
    const pub = readFileSync(`${siteKey}.pub`, 'utf8').trim();
    const added = await dev.exec(
      ['sh', '-c', 'echo "fieldtech:x:4242:4242::/home/fieldtech:/bin/sh" >> /etc/passwd && echo "fieldtech:*:19000:0:99999:7:::" >> /etc/shadow && mkdir -p /home/fieldtech/.ssh && cat > /home/fieldtech/.ssh/authorized_keys && chown -R 4242:4242 /home/fieldtech'],
      { input: `${pub}\n` },
    );
    expect(added.code, added.stderr).toBe(0);

    const set = outpostEnv({ OUTPOST_HOME: laptop }, 'link', 'defaults', 'set', '--user', 'fieldtech', '--identity', siteKey);
    expect(set.json).toEqual({ user: 'fieldtech', identityFile: siteKey });

    // The address is not in this laptop's inventory: it is added on the fly and dialled with the site defaults.
    const clock = outpostEnv({ OUTPOST_HOME: laptop }, 'clock', 'check', dev.ip, '--yes');
    expect(clock.code, JSON.stringify(clock.json) + clock.stderr).toBe(0);
    const log = await dev.exec(['cat', '/var/log/sshd.log']);
    expect(log.stdout).toMatch(/Accepted publickey for fieldtech from 10\.\S+ port \d+ ssh2: ED25519 SHA256:/);
    // The device keeps no login of its own: the site's applies, and says so.
    const shown = spawnSync(process.execPath, [bin, 'devices', 'get', dev.ip], { env: { ...process.env, OUTPOST_HOME: laptop }, encoding: 'utf8' });
    expect(shown.stdout).toContain(`fieldtech@${dev.ip}:22, key ${siteKey} (user: site default, port: built-in, key: site default)`);

    // A run override wins: root with the site key is refused (that key is authorized only for fieldtech).
    const asRoot = outpostEnv({ OUTPOST_HOME: laptop }, 'clock', 'check', dev.ip, '--user', 'root');
    expect(asRoot.code).toBe(3);
    expect(asRoot.json.error?.kind).toBe('auth');
  });
});

describe('one login per command', () => {
  const logins = async (dev: Lab['devices'][number]) => ((await dev.exec(['cat', '/var/log/sshd.log'])).stdout.match(/Accepted publickey for /g) ?? []).length;

  it('an empty flush logs in once: the dial started while the CLI loads is the one the flush uses', async () => {
    const dev = lab.devices[0]!;
    const laptop = mkdtempSync(join(tmpdir(), 'outpost-cli-ssh-once-'));
    const first = outpostEnv({ OUTPOST_HOME: laptop }, 'flush', dev.ip, '--identity', lab.clientKeyPath, '--yes');
    expect(first.code, JSON.stringify(first.json) + first.stderr).toBe(0);
    const before = await logins(dev);
    const again = outpostEnv({ OUTPOST_HOME: laptop }, 'flush', dev.ip, '--identity', lab.clientKeyPath);
    expect(again.code, JSON.stringify(again.json) + again.stderr).toBe(0);
    expect(again.json).toMatchObject({ devices: [{ streams: {}, quarantined: [] }] });
    expect(await logins(dev)).toBe(before + 1);
    // With the laptop's own key from the vault (installed by the first test of this file), the same.
    const withVault = outpost('flush', dev.ip);
    expect(withVault.code, JSON.stringify(withVault.json)).toBe(0);
    expect(await logins(dev)).toBe(before + 2);
  });
});
