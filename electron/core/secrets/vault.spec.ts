import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database';
import { seal, unseal, Vault, VERIFIER_NAME } from './vault';

describe('vault', () => {
  it('round-trips with the right passphrase and never stores the plain text', () => {
    const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-vault-')), 'o.db'));
    const vault = new Vault(db, () => 'correct horse');
    vault.put('ssh-password:d1:pi', 'raspberry-s3cret');
    expect(vault.get('ssh-password:d1:pi')).toBe('raspberry-s3cret');
    const raw = db.prepare('SELECT * FROM secrets').all();
    expect(JSON.stringify(raw)).not.toContain('raspberry');
    expect(Buffer.concat((raw as Array<{ ciphertext: Buffer }>).map((r) => r.ciphertext)).includes(Buffer.from('raspberry'))).toBe(false);
    expect(() => new Vault(db, () => 'wrong').get('ssh-password:d1:pi')).toThrow(expect.objectContaining({ kind: 'auth' }));
    expect(() => new Vault(db, () => undefined).put('x', 'y')).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
    db.close();
  });

  it('binds the secret to its name and detects tampering', () => {
    const sealed = seal('p', 'a', 'secret');
    expect(() => unseal('p', 'b', sealed)).toThrow(/wrong passphrase|tampered/);
    const flipped = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext.map((b, i) => (i === 0 ? b ^ 1 : b))) };
    expect(() => unseal('p', 'a', flipped)).toThrow(expect.objectContaining({ kind: 'auth' }));
    expect(seal('p', 'a', 'secret').iv.equals(sealed.iv)).toBe(false);
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

  it('sets the passphrase on first unlock, then catches a mistyped one at once with kind auth', () => {
    const { db } = fresh();
    const vault = new Vault(db, () => undefined);
    expect(vault.status()).toMatchObject({ initialized: false, unlocked: false, source: null });
    expect(() => vault.get('anything')).not.toThrow(); // nothing stored: nothing to open
    expect(() => vault.put('a', 'b')).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
    expect(vault.unlock('first choice')).toMatchObject({ initialized: true, unlocked: true, source: 'session' });
    vault.put('a', 'b');
    // A second process (or the same after a lock) with the wrong passphrase fails before anything is written.
    const other = new Vault(db, () => undefined);
    expect(() => other.unlock('first choise')).toThrow(expect.objectContaining({ kind: 'auth' }));
    expect(() => new Vault(db, () => 'first choise').put('c', 'd')).toThrow(expect.objectContaining({ kind: 'auth' }));
    expect(db.prepare('SELECT name FROM secrets WHERE name = ?').get('c')).toBeUndefined();
    expect(other.unlock('first choice').unlocked).toBe(true);
    expect(other.get('a')).toBe('b');
    db.close();
  });

  it('keeps the passphrase in memory only; lock forgets it, even over the environment', () => {
    const { dir, db } = fresh();
    const vault = new Vault(db, () => 'from-env', { rememberFile: join(dir, 'vault.keychain') });
    expect(vault.status()).toMatchObject({ unlocked: true, source: 'environment' });
    vault.put('x', 'y');
    expect(vault.lock()).toMatchObject({ unlocked: false, source: null, initialized: true });
    expect(() => vault.get('x')).toThrow(/locked/);
    expect(vault.unlock('from-env').source).toBe('session');
    expect(readdirSync(dir).filter((f) => f !== 'o.db' && !f.startsWith('o.db-'))).toEqual([]);
    expect(JSON.stringify(db.prepare('SELECT * FROM secrets').all())).not.toContain('from-env');
    db.close();
  });

  it('adopts a vault written before verifiers existed, checking the passphrase against its secrets', () => {
    const { db } = fresh();
    new Vault(db, () => 'old').put('ssh-password:d:pi', 'pw');
    db.prepare('DELETE FROM secrets WHERE name = ?').run(VERIFIER_NAME);
    expect(() => new Vault(db, () => undefined).unlock('wrong')).toThrow(expect.objectContaining({ kind: 'auth' }));
    const vault = new Vault(db, () => undefined);
    vault.unlock('old');
    expect(vault.get('ssh-password:d:pi')).toBe('pw');
    expect(db.prepare('SELECT 1 FROM secrets WHERE name = ?').get(VERIFIER_NAME)).toBeTruthy();
    expect(vault.remove(VERIFIER_NAME)).toBe(false);
    expect(() => vault.put(VERIFIER_NAME, 'x')).toThrow(/reserved/);
    db.close();
  });

  it('remembers the passphrase through the OS keychain only when asked, and never in plain text', () => {
    const { dir, db } = fresh();
    const rememberFile = join(dir, 'vault.keychain');
    const keychain = stubKeychain();
    const vault = new Vault(db, () => undefined, { protector: keychain, rememberFile });
    expect(vault.status()).toMatchObject({ keychainAvailable: true, remembered: false });
    vault.unlock('s3cret pass', { remember: true });
    expect(readFileSync(rememberFile).includes(Buffer.from('s3cret pass'))).toBe(false);
    vault.put('k', 'v');
    // The next start: unlocked by the keychain, no typing.
    const next = new Vault(db, () => undefined, { protector: keychain, rememberFile });
    expect(next.status()).toMatchObject({ unlocked: true, source: 'keychain', remembered: true });
    expect(next.get('k')).toBe('v');
    expect(next.lock({ forget: true })).toMatchObject({ unlocked: false, remembered: false });
    expect(new Vault(db, () => undefined, { protector: keychain, rememberFile }).status().unlocked).toBe(false);
    // Without a keychain, remembering is refused (the session unlock still stands).
    const bare = new Vault(db, () => undefined, { protector: stubKeychain(false), rememberFile });
    expect(() => bare.unlock('s3cret pass', { remember: true })).toThrow(expect.objectContaining({ kind: 'unsupported' }));
    expect(bare.status().unlocked).toBe(true);
    db.close();
  });
});
