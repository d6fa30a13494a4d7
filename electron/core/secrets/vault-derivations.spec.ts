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
const { forgetDerivedKeys, Vault, VERIFIER_NAME } = await import('./vault');
const { LaptopKeyStore, LAPTOP_KEY_SECRET } = await import('../transport/laptop-key');

async function vaultWithSecret(passphrase = 'correct horse') {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-vault-kdf-'));
  const db = openDatabase(join(dir, 'o.db'));
  const writer = new Vault(db, () => undefined);
  await writer.unlock(passphrase);
  await writer.put(LAPTOP_KEY_SECRET, 'the-private-key');
  // As a new process: nothing derived yet.
  forgetDerivedKeys();
  counts.sync = 0;
  counts.async = 0;
  return { dir, db };
}

beforeEach(() => {
  counts.sync = 0;
  counts.async = 0;
});

describe('reading a secret in a new process', () => {
  it('derives the key once, off the event loop: the secret’s own tag proves the passphrase, the verifier is not opened too', async () => {
    const { db } = await vaultWithSecret();
    const vault = new Vault(db, () => 'correct horse');
    expect(await vault.get(LAPTOP_KEY_SECRET)).toBe('the-private-key');
    expect(counts).toEqual({ sync: 0, async: 1 });
    // Proven for this process: a later check of the same passphrase derives nothing for the verifier.
    await vault.assertReady();
    // And reading it again reuses the derivation (same passphrase, same salt).
    expect(await vault.get(LAPTOP_KEY_SECRET)).toBe('the-private-key');
    expect(counts).toEqual({ sync: 0, async: 1 });
  });

  it('a wrong passphrase still says so (kind auth), checked against the verifier', async () => {
    const { db } = await vaultWithSecret();
    await expect(new Vault(db, () => 'wrong horse').get(LAPTOP_KEY_SECRET)).rejects.toMatchObject({ kind: 'auth', message: 'wrong vault passphrase' });
  });

  it('a damaged secret with the right passphrase is named as such, not as a wrong passphrase', async () => {
    const { db } = await vaultWithSecret();
    db.prepare('UPDATE secrets SET ciphertext = ? WHERE name = ?').run(Buffer.from('garbage!'), LAPTOP_KEY_SECRET);
    await expect(new Vault(db, () => 'correct horse').get(LAPTOP_KEY_SECRET)).rejects.toThrow(/cannot open secret/);
    expect(db.prepare('SELECT 1 FROM secrets WHERE name = ?').get(VERIFIER_NAME)).toBeTruthy();
  });
});

describe('the laptop key for a dial', () => {
  it('is read once however many links ask at once, then kept', async () => {
    const { dir, db } = await vaultWithSecret();
    const keys = new LaptopKeyStore(dir, new Vault(db, () => 'correct horse'));
    const first = keys.privateKey();
    const second = keys.privateKey();
    expect(second).toBe(first);
    expect(await first).toBe('the-private-key');
    expect(await keys.privateKey()).toBe('the-private-key');
    expect(counts).toEqual({ sync: 0, async: 1 });
  });

  it('is undefined with no passphrase at hand, and rejects with kind auth for a wrong one (the next dial asks again)', async () => {
    const { dir, db } = await vaultWithSecret();
    expect(await new LaptopKeyStore(dir, new Vault(db, () => undefined)).privateKey()).toBeUndefined();
    const keys = new LaptopKeyStore(dir, new Vault(db, () => 'wrong horse'));
    const soon = keys.privateKey();
    await expect(soon).rejects.toMatchObject({ kind: 'auth' });
    expect(keys.privateKey()).not.toBe(soon);
    await expect(keys.privateKey()).rejects.toMatchObject({ kind: 'auth' });
  });
});
