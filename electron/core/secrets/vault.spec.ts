import type * as Crypto from 'node:crypto';
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../store/database';
import { forgetDerivedKeys, seal, unseal, Vault, VERIFIER_NAME } from './vault';

const { scrypt } = vi.hoisted(() => ({ scrypt: vi.fn() }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof Crypto>();
  scrypt.mockImplementation(actual.scrypt as never);
  return { ...actual, scrypt };
});

describe('vault', () => {
  it('round-trips with the right passphrase and never stores the plain text', async () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-vault-')), 'o.db'));
    const vault = new Vault(db, () => 'correct horse');
    await vault.put('ssh-password:d1:pi', 'raspberry-s3cret');
    expect(await vault.get('ssh-password:d1:pi')).toBe('raspberry-s3cret');
    const raw = db.prepare('SELECT * FROM secrets').all();
    expect(JSON.stringify(raw)).not.toContain('raspberry');
    expect(Buffer.concat((raw as Array<{ ciphertext: Buffer }>).map((r) => r.ciphertext)).includes(Buffer.from('raspberry'))).toBe(false);
    await expect(new Vault(db, () => 'wrong').get('ssh-password:d1:pi')).rejects.toMatchObject({ kind: 'auth', message: 'wrong vault passphrase' });
    await expect(new Vault(db, () => undefined).put('x', 'y')).rejects.toMatchObject({ kind: 'invalid-input' });
    db.close();
  });

  it('binds the secret to its name and detects tampering', async () => {
    const sealed = await seal('p', 'a', 'secret');
    await expect(unseal('p', 'b', sealed)).rejects.toThrow(/wrong passphrase|tampered/);
    const flipped = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext.map((b, i) => (i === 0 ? b ^ 1 : b))) };
    await expect(unseal('p', 'a', flipped)).rejects.toMatchObject({ kind: 'auth' });
    expect((await seal('p', 'a', 'secret')).iv.equals(sealed.iv)).toBe(false);
  });

  it('keeps the on-disk format: a secret sealed by the synchronous scrypt of earlier versions opens', async () => {
    // What the vault wrote before derivation moved to the thread pool: scryptSync(N=2^15, r=8, p=1), AES-256-GCM, the
    // name as additional data.
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', scryptSync('pässphrase'.normalize('NFC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }), iv);
    cipher.setAAD(Buffer.from('n', 'utf8'));
    const ciphertext = Buffer.concat([cipher.update('old secret', 'utf8'), cipher.final()]);
    expect(await unseal('pässphrase', 'n', { salt, iv, tag: cipher.getAuthTag(), ciphertext })).toBe('old secret');
  });

  it('derives on the thread pool: the event loop keeps turning meanwhile, and a secret read twice is derived once', async () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-vault-')), 'o.db'));
    await new Vault(db, () => 'pw').put('k', 'v');
    forgetDerivedKeys();
    scrypt.mockClear();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const reader = new Vault(db, () => 'pw');
    expect(await reader.get('k')).toBe('v');
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    // Reading the secret proved the passphrase: one derivation, not a second one for the verifier.
    expect(scrypt).toHaveBeenCalledTimes(1);
    // A second read (another instance, as the PKI makes per call) reuses it.
    expect(await new Vault(db, () => 'pw').get('k')).toBe('v');
    expect(scrypt).toHaveBeenCalledTimes(1);
    // A wrong passphrase derives its own key, and is told as such (the verifier is checked).
    await expect(new Vault(db, () => 'nope').get('k')).rejects.toMatchObject({ kind: 'auth', message: 'wrong vault passphrase' });
    await reader.lock();
    db.close();
  });
});

/** A stand-in for Electron's safeStorage: reversible, but never the plain text on disk. */
function stubKeychain(available = true) {
  const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
  return {
    isEncryptionAvailable: () => available,
    encryptString: (plain: string) => Buffer.concat([Buffer.from('KC1'), xor(Buffer.from(plain, 'utf8'))]),
    decryptString: (blob: Buffer) => {
      if (!blob.subarray(0, 3).equals(Buffer.from('KC1'))) throw new Error('not ours');
      return xor(blob.subarray(3)).toString('utf8');
    },
  };
}

describe('vault unlock', () => {
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-vault-'));
    return { dir, db: openDatabase(join(dir, 'o.db')) };
  };

  it('sets the passphrase on first unlock, then catches a mistyped one at once with kind auth', async () => {
    const { db } = fresh();
    const vault = new Vault(db, () => undefined);
    expect(await vault.status()).toMatchObject({ initialized: false, unlocked: false, source: null });
    expect(await vault.get('anything')).toBeUndefined(); // nothing stored: nothing to open
    await expect(vault.put('a', 'b')).rejects.toMatchObject({ kind: 'invalid-input' });
    expect(await vault.unlock('first choice')).toMatchObject({ initialized: true, unlocked: true, source: 'session' });
    await vault.put('a', 'b');
    // A second process (or the same after a lock) with the wrong passphrase fails before anything is written.
    const other = new Vault(db, () => undefined);
    await expect(other.unlock('first choise')).rejects.toMatchObject({ kind: 'auth' });
    await expect(new Vault(db, () => 'first choise').put('c', 'd')).rejects.toMatchObject({ kind: 'auth' });
    expect(db.prepare('SELECT name FROM secrets WHERE name = ?').get('c')).toBeUndefined();
    expect((await other.unlock('first choice')).unlocked).toBe(true);
    expect(await other.get('a')).toBe('b');
    db.close();
  });

  it('keeps the passphrase in memory only; lock forgets it, even over the environment', async () => {
    const { dir, db } = fresh();
    const vault = new Vault(db, () => 'from-env', { rememberFile: join(dir, 'vault.keychain') });
    expect(await vault.status()).toMatchObject({ unlocked: true, source: 'environment' });
    await vault.put('x', 'y');
    expect(await vault.lock()).toMatchObject({ unlocked: false, source: null, initialized: true });
    await expect(vault.get('x')).rejects.toThrow(/locked/);
    expect((await vault.unlock('from-env')).source).toBe('session');
    expect(readdirSync(dir).filter((f) => f !== 'o.db' && !f.startsWith('o.db-'))).toEqual([]);
    expect(JSON.stringify(db.prepare('SELECT * FROM secrets').all())).not.toContain('from-env');
    db.close();
  });

  it('adopts a vault written before verifiers existed, checking the passphrase against its secrets', async () => {
    const { db } = fresh();
    await new Vault(db, () => 'old').put('ssh-password:d:pi', 'pw');
    db.prepare('DELETE FROM secrets WHERE name = ?').run(VERIFIER_NAME);
    await expect(new Vault(db, () => undefined).unlock('wrong')).rejects.toMatchObject({ kind: 'auth' });
    const vault = new Vault(db, () => undefined);
    await vault.unlock('old');
    expect(await vault.get('ssh-password:d:pi')).toBe('pw');
    expect(db.prepare('SELECT 1 FROM secrets WHERE name = ?').get(VERIFIER_NAME)).toBeTruthy();
    expect(vault.remove(VERIFIER_NAME)).toBe(false);
    await expect(vault.put(VERIFIER_NAME, 'x')).rejects.toThrow(/reserved/);
    db.close();
  });

  it('remembers the passphrase through the OS keychain only when asked, and never in plain text', async () => {
    const { dir, db } = fresh();
    const rememberFile = join(dir, 'vault.keychain');
    const keychain = stubKeychain();
    const vault = new Vault(db, () => undefined, { protector: keychain, rememberFile });
    expect(await vault.status()).toMatchObject({ keychainAvailable: true, remembered: false });
    await vault.unlock('s3cret pass', { remember: true });
    expect(readFileSync(rememberFile).includes(Buffer.from('s3cret pass'))).toBe(false);
    await vault.put('k', 'v');
    // The next start: unlocked by the keychain, no typing.
    const next = new Vault(db, () => undefined, { protector: keychain, rememberFile });
    expect(await next.status()).toMatchObject({ unlocked: true, source: 'keychain', remembered: true });
    expect(await next.get('k')).toBe('v');
    expect(await next.lock({ forget: true })).toMatchObject({ unlocked: false, remembered: false });
    expect((await new Vault(db, () => undefined, { protector: keychain, rememberFile }).status()).unlocked).toBe(false);
    // Without a keychain, remembering is refused (the session unlock still stands).
    const bare = new Vault(db, () => undefined, { protector: stubKeychain(false), rememberFile });
    await expect(bare.unlock('s3cret pass', { remember: true })).rejects.toMatchObject({ kind: 'unsupported' });
    expect((await bare.status()).unlocked).toBe(true);
    db.close();
  });
});
