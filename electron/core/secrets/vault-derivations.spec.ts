import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Counts scrypt derivations (each one is ~50–250 ms of a laptop core, at every CLI command that reads a secret).
const counts = vi.hoisted(() => ({ sync: 0, async: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof Crypto>();
  return {
    ...real,
    scryptSync: (...args: Parameters<typeof real.scryptSync>) => {
      counts.sync++;
      return real.scryptSync(...args);
    },
    scrypt: (...args: Parameters<typeof real.scrypt>) => {
      counts.async++;
      return (real.scrypt as (...a: unknown[]) => void)(...args);
    },
  };
});

const { openDatabase } = await import('../store/database');
const { Vault, VERIFIER_NAME } = await import('./vault');
const { LaptopKeyStore, LAPTOP_KEY_SECRET } = await import('../transport/laptop-key');

function vaultWithSecret(passphrase = 'correct horse') {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-vault-kdf-'));
  const db = openDatabase(join(dir, 'o.db'));
  const writer = new Vault(db, () => undefined);
  writer.unlock(passphrase);
  writer.put(LAPTOP_KEY_SECRET, 'the-private-key');
  return { dir, db };
}

beforeEach(() => {
  counts.sync = 0;
  counts.async = 0;
});

describe('reading a secret in a new process', () => {
  it('derives the key once: the secret’s own tag proves the passphrase, the verifier is not opened too', () => {
    const { db } = vaultWithSecret();
    counts.sync = 0;
    const vault = new Vault(db, () => 'correct horse');
    expect(vault.get(LAPTOP_KEY_SECRET)).toBe('the-private-key');
    expect(counts.sync).toBe(1);
    // Proven for this process: a later check of the same passphrase derives nothing for the verifier.
    vault.assertReady();
    expect(counts.sync).toBe(1);
    // Each secret has its own salt: reading it again is its own derivation (the laptop key store keeps it instead).
    expect(vault.get(LAPTOP_KEY_SECRET)).toBe('the-private-key');
    expect(counts.sync).toBe(2);
  });

  it('off the event loop, once; a wrong passphrase still says so (kind auth), checked against the verifier', async () => {
    const { db } = vaultWithSecret();
    expect(await new Vault(db, () => 'correct horse').getAsync(LAPTOP_KEY_SECRET)).toBe('the-private-key');
    expect(counts).toEqual({ sync: 2, async: 1 }); // the two sync ones made the vault in vaultWithSecret
    await expect(new Vault(db, () => 'wrong horse').getAsync(LAPTOP_KEY_SECRET)).rejects.toMatchObject({ kind: 'auth', message: 'wrong vault passphrase' });
    expect(() => new Vault(db, () => 'wrong horse').get(LAPTOP_KEY_SECRET)).toThrow('wrong vault passphrase');
  });

  it('a damaged secret with the right passphrase is named as such, not as a wrong passphrase', () => {
    const { db } = vaultWithSecret();
    db.prepare('UPDATE secrets SET ciphertext = ? WHERE name = ?').run(Buffer.from('garbage!'), LAPTOP_KEY_SECRET);
    expect(() => new Vault(db, () => 'correct horse').get(LAPTOP_KEY_SECRET)).toThrow(/cannot open secret/);
    expect(db.prepare('SELECT 1 FROM secrets WHERE name = ?').get(VERIFIER_NAME)).toBeTruthy();
  });
});

describe('the laptop key for a dial', () => {
  it('is a promise while the vault derives its key (once, however many links ask), then the key itself', async () => {
    const { dir, db } = vaultWithSecret();
    counts.sync = 0;
    const keys = new LaptopKeyStore(dir, new Vault(db, () => 'correct horse'));
    const first = keys.privateKeySoon();
    const second = keys.privateKeySoon();
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBe(first);
    expect(await first).toBe('the-private-key');
    expect(keys.privateKeySoon()).toBe('the-private-key');
    expect(counts).toEqual({ sync: 0, async: 1 });
  });

  it('is undefined with no passphrase at hand, and rejects with kind auth for a wrong one (the next dial asks again)', async () => {
    const { dir, db } = vaultWithSecret();
    expect(new LaptopKeyStore(dir, new Vault(db, () => undefined)).privateKeySoon()).toBeUndefined();
    const keys = new LaptopKeyStore(dir, new Vault(db, () => 'wrong horse'));
    const soon = keys.privateKeySoon();
    await expect(soon).rejects.toMatchObject({ kind: 'auth' });
    expect(keys.privateKeySoon()).not.toBe(soon);
    await expect(keys.privateKeySoon()).rejects.toMatchObject({ kind: 'auth' });
  });
});
