import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database';
import { seal, unseal, Vault } from './vault';

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
