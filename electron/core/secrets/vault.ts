import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OutpostError } from '../../../shared/errors';
import type { Db } from '../store/database';

/** scrypt cost: ~50 ms per derivation here, paid once per secret read or written. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export interface SealedSecret {
  salt: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

function keyFrom(passphrase: string, salt: Buffer): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, SCRYPT);
}

/** AES-256-GCM with a fresh salt and IV per secret; the secret's name is bound in as additional data. */
export function seal(passphrase: string, name: string, secret: string): SealedSecret {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(passphrase, salt), iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { salt, iv, tag: cipher.getAuthTag(), ciphertext };
}

export function unseal(passphrase: string, name: string, sealed: SealedSecret): string {
  const decipher = createDecipheriv('aes-256-gcm', keyFrom(passphrase, sealed.salt), sealed.iv);
  decipher.setAAD(Buffer.from(name, 'utf8'));
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new OutpostError('auth', `cannot open secret ${name}: wrong passphrase, or the vault was tampered with`);
  }
}

/** `OUTPOST_PASSPHRASE`, else the file named by `OUTPOST_PASSPHRASE_FILE` (what `--passphrase-file` sets). */
export function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OUTPOST_PASSPHRASE) return env.OUTPOST_PASSPHRASE;
  const file = env.OUTPOST_PASSPHRASE_FILE;
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new OutpostError('invalid-input', `cannot read passphrase file ${file}: ${(err as Error).message}`);
  }
}

interface Row {
  salt: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Secrets the technician typed (device passwords), encrypted at rest; never stored in plain text. */
export class Vault {
  constructor(
    private readonly db: Db,
    private readonly passphrase: () => string | undefined = () => passphraseFromEnv(),
  ) {}

  private need(): string {
    const p = this.passphrase();
    if (!p) throw new OutpostError('invalid-input', 'storing a password needs a passphrase: set OUTPOST_PASSPHRASE or pass --passphrase-file');
    return p;
  }

  /** Fails early (before any device is touched) when a secret could not be stored. */
  assertReady(): void {
    this.need();
  }

  put(name: string, secret: string, now = new Date()): void {
    const sealed = seal(this.need(), name, secret);
    this.db
      .prepare(
        `INSERT INTO secrets (name, salt, iv, tag, ciphertext, updated_at) VALUES (@name, @salt, @iv, @tag, @ciphertext, @updatedAt)
         ON CONFLICT(name) DO UPDATE SET salt=@salt, iv=@iv, tag=@tag, ciphertext=@ciphertext, updated_at=@updatedAt`,
      )
      .run({ name, ...sealed, updatedAt: now.toISOString() });
  }

  get(name: string): string | undefined {
    const row = this.db.prepare('SELECT salt, iv, tag, ciphertext FROM secrets WHERE name = ?').get(name) as Row | undefined;
    return row ? unseal(this.need(), name, row) : undefined;
  }

  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
  }
}
