import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { Vault } from '../secrets/vault';
import { openDatabase } from '../store/database';
import { expandHome, LAPTOP_KEY_SECRET, LaptopKeyStore } from './laptop-key';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-laptop-key-'));
  const db = openDatabase(join(dir, 'o.db'));
  const vault = new Vault(db, () => undefined);
  return { dir, db, vault, keys: new LaptopKeyStore(dir, vault) };
}

describe('laptop key', () => {
  it('is made only with the vault unlocked, kept encrypted in it, and absent from disk in plain text', async () => {
    const { dir, db, vault, keys } = setup();
    expect(keys.state()).toBe('none');
    await expect(keys.ensure()).rejects.toMatchObject({ kind: 'invalid-input' });
    expect(existsSync(join(dir, 'keys', 'id_ed25519.pub'))).toBe(false);
    await vault.unlock('pass');
    const made = await keys.ensure();
    expect(made.publicKey).toMatch(/^ssh-ed25519 \S+ outpost-laptop$/);
    expect(keys.state()).toBe('encrypted');
    expect(existsSync(join(dir, 'keys', 'id_ed25519'))).toBe(false);
    const sealed = db.prepare('SELECT ciphertext FROM secrets WHERE name = ?').get(LAPTOP_KEY_SECRET) as { ciphertext: Buffer };
    expect(sealed.ciphertext.includes(Buffer.from('OPENSSH PRIVATE KEY'))).toBe(false);
    // Locked: the public half is still known (to install it), the private half is not.
    await vault.lock();
    const reopened = new LaptopKeyStore(dir, vault);
    expect(reopened.publicKey()).toBe(made.publicKey);
    expect(await reopened.privateKey()).toBeUndefined();
    await vault.unlock('pass');
    const parsed = ssh2.utils.parseKey((await reopened.privateKey()) as string);
    expect(parsed).not.toBeInstanceOf(Error);
    expect(`ssh-ed25519 ${(parsed as ssh2.ParsedKey).getPublicSSH().toString('base64')}`).toBe(made.publicKey.split(' ').slice(0, 2).join(' '));
    db.close();
  });

  it('keeps using a plain key from before until the first unlock, which moves the same key into the vault', async () => {
    const { dir, db, vault, keys } = setup();
    mkdirSync(join(dir, 'keys'));
    const old = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'outpost-laptop' });
    writeFileSync(join(dir, 'keys', 'id_ed25519'), old.private, { mode: 0o600 });
    writeFileSync(join(dir, 'keys', 'id_ed25519.pub'), `${old.public}\n`);
    expect(keys.state()).toBe('plaintext');
    expect(await keys.privateKey()).toBe(old.private);
    await vault.unlock('pass');
    expect(keys.state()).toBe('encrypted');
    expect(existsSync(join(dir, 'keys', 'id_ed25519'))).toBe(false);
    expect(await vault.get(LAPTOP_KEY_SECRET)).toBe(old.private);
    expect(readFileSync(join(dir, 'keys', 'id_ed25519.pub'), 'utf8').trim()).toBe(old.public.trim());
    expect((await keys.ensure()).publicKey).toBe(old.public.trim());
    db.close();
  });

  it('reads the key with one derivation (it proves the passphrase too), shared by concurrent callers; a wrong passphrase is kind auth', async () => {
    const { dir, db, vault, keys } = setup();
    await vault.unlock('pass');
    const made = await keys.ensure();
    const fresh = new LaptopKeyStore(dir, new Vault(db, () => 'pass'));
    const [a, b] = await Promise.all([fresh.privateKey(), fresh.privateKey()]);
    expect(a).toBe(made.privateKey);
    expect(b).toBe(a);
    await expect(new LaptopKeyStore(dir, new Vault(db, () => 'wrong')).privateKey()).rejects.toMatchObject({ kind: 'auth', message: 'wrong vault passphrase' });
    db.close();
  });

  it('expands ~ in identity paths as a shell would', () => {
    expect(expandHome('~/.ssh/id_ed25519', '/home/tech')).toBe('/home/tech/.ssh/id_ed25519');
    expect(expandHome('~', '/home/tech')).toBe('/home/tech');
    expect(expandHome('/etc/key', '/home/tech')).toBe('/etc/key');
    expect(expandHome('~other/key', '/home/tech')).toBe('~other/key');
  });
});
