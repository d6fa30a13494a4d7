import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { VaultStatus } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import type { Db } from '../store/database';

/**
 * scrypt cost: ~50 ms of CPU per derivation here. Derived on libuv's thread pool (crypto.scrypt), never on the event
 * loop: an SSH handshake, a UI request or another device's job keeps running meanwhile.
 */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** A reserved row: a known text sealed with the vault's passphrase, so a mistyped one is caught at once. */
export const VERIFIER_NAME = 'outpost:vault-verifier';
const VERIFIER_TEXT = 'outpost vault v1';

export interface SealedSecret {
  salt: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/**
 * Keys derived in this process, by salt: each (passphrase, salt) is derived once, however many times its secret is
 * read and however many Vault instances read it (the PKI opens one per passphrase given with a call). Holds what the
 * passphrase itself already opens while it is in memory; lock() forgets them.
 */
const derived = new Map<string, { passphrase: string; key: Promise<Buffer> }>();
const DERIVED_MAX = 64;

function keyFrom(passphrase: string, salt: Buffer): Promise<Buffer> {
  const id = salt.toString('hex');
  const known = derived.get(id);
  if (known && known.passphrase === passphrase) return known.key;
  const key = new Promise<Buffer>((resolve, reject) => scrypt(passphrase.normalize('NFC'), salt, 32, SCRYPT, (err, k) => (err ? reject(err) : resolve(k))));
  if (derived.size >= DERIVED_MAX) derived.clear();
  derived.set(id, { passphrase, key });
  key.catch(() => derived.get(id)?.key === key && derived.delete(id));
  return key;
}

/** Forgets every derived key (a lock). */
export function forgetDerivedKeys(): void {
  derived.clear();
}

/** AES-256-GCM with a fresh salt and IV per secret; the secret's name is bound in as additional data. */
export async function seal(passphrase: string, name: string, secret: string): Promise<SealedSecret> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', await keyFrom(passphrase, salt), iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return { salt, iv, tag: cipher.getAuthTag(), ciphertext };
}

export async function unseal(passphrase: string, name: string, sealed: SealedSecret): Promise<string> {
  const decipher = createDecipheriv('aes-256-gcm', await keyFrom(passphrase, sealed.salt), sealed.iv);
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

/**
 * What the OS offers to keep a secret for this user (Electron's `safeStorage`: Keychain, DPAPI, libsecret).
 * The core never imports electron; main.ts hands this in.
 */
export interface SecretProtector {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export interface VaultOptions {
  /** The OS keychain, where available (the Electron app); absent in the CLI and browser mode. */
  protector?: SecretProtector;
  /** Where the keychain-encrypted passphrase is kept when the technician asks to be remembered. */
  rememberFile?: string;
}

/** The vault's lock state, as `vault:status` reports it (without what the laptop key service adds). */
export type VaultLockState = Omit<VaultStatus, 'laptopKey' | 'agent'>;
type VaultSource = NonNullable<VaultStatus['source']>;

interface Row {
  salt: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/**
 * Secrets the technician typed (device passwords) and keys the laptop owns, encrypted at rest; never stored in
 * plain text. The passphrase comes from an unlock in this session (kept in memory only), else the environment
 * (`OUTPOST_PASSPHRASE`, `--passphrase-file`), else the OS keychain when the technician asked to be remembered.
 * A verifier sealed with the passphrase catches a wrong one at once (kind `auth`).
 */
export class Vault {
  private session: string | undefined;
  /** An explicit lock: the environment and the keychain are ignored until the next unlock. */
  private locked = false;
  /** The last passphrase proven against the verifier (so each one is checked once per process). */
  private verified: string | undefined;
  private readonly unlockListeners = new Set<() => void | Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly passphrase: () => string | undefined = () => passphraseFromEnv(),
    private readonly opts: VaultOptions = {},
  ) {}

  private keychainAvailable(): boolean {
    try {
      return Boolean(this.opts.protector?.isEncryptionAvailable() && this.opts.rememberFile);
    } catch {
      return false;
    }
  }

  private fromKeychain(): string | undefined {
    const file = this.opts.rememberFile;
    if (!file || !this.keychainAvailable() || !existsSync(file)) return undefined;
    try {
      return this.opts.protector?.decryptString(readFileSync(file));
    } catch {
      return undefined; // another user's or another machine's keychain: ask instead
    }
  }

  private current(): { passphrase: string; source: VaultSource } | undefined {
    if (this.session !== undefined) return { passphrase: this.session, source: 'session' };
    if (this.locked) return undefined;
    const env = this.passphrase();
    if (env) return { passphrase: env, source: 'environment' };
    const kept = this.fromKeychain();
    if (kept) return { passphrase: kept, source: 'keychain' };
    return undefined;
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT salt, iv, tag, ciphertext FROM secrets WHERE name = ?').get(name) as Row | undefined;
  }

  private write(name: string, sealed: SealedSecret, now: Date): void {
    this.db
      .prepare(
        `INSERT INTO secrets (name, salt, iv, tag, ciphertext, updated_at) VALUES (@name, @salt, @iv, @tag, @ciphertext, @updatedAt)
         ON CONFLICT(name) DO UPDATE SET salt=@salt, iv=@iv, tag=@tag, ciphertext=@ciphertext, updated_at=@updatedAt`,
      )
      .run({ name, ...sealed, updatedAt: now.toISOString() });
  }

  /**
   * Proves a passphrase: against the verifier; in a vault from before verifiers, against one of its secrets (then
   * the verifier is written); in an empty vault the first passphrase becomes the vault's.
   */
  private async verify(passphrase: string): Promise<void> {
    if (this.verified === passphrase) return;
    const verifier = this.row(VERIFIER_NAME);
    if (verifier) {
      try {
        await unseal(passphrase, VERIFIER_NAME, verifier);
      } catch {
        throw new OutpostError('auth', 'wrong vault passphrase');
      }
    } else {
      const legacy = this.db.prepare('SELECT name, salt, iv, tag, ciphertext FROM secrets WHERE name <> ? LIMIT 1').get(VERIFIER_NAME) as (Row & { name: string }) | undefined;
      if (legacy) {
        try {
          await unseal(passphrase, legacy.name, legacy);
        } catch {
          throw new OutpostError('auth', 'wrong vault passphrase');
        }
      }
      this.write(VERIFIER_NAME, await seal(passphrase, VERIFIER_NAME, VERIFIER_TEXT), new Date());
    }
    this.verified = passphrase;
  }

  /** The passphrase at hand, not yet proven (kind `invalid-input` when there is none). */
  private atHand(): string {
    const p = this.current();
    if (!p) {
      throw new OutpostError(
        'invalid-input',
        this.locked
          ? 'the vault is locked: unlock it in the app, or set OUTPOST_PASSPHRASE or pass --passphrase-file'
          : 'this needs the vault passphrase: unlock the vault in the app, or set OUTPOST_PASSPHRASE or pass --passphrase-file',
      );
    }
    return p.passphrase;
  }

  private async need(): Promise<string> {
    const passphrase = this.atHand();
    await this.verify(passphrase);
    return passphrase;
  }

  /** Fails early (before any device is touched) when a secret could not be stored or read. */
  async assertReady(): Promise<void> {
    await this.need();
  }

  /** True when a passphrase is at hand and right (never throws). */
  async isUnlocked(): Promise<boolean> {
    try {
      await this.need();
      return true;
    } catch {
      return false;
    }
  }

  async status(): Promise<VaultLockState> {
    const initialized = Boolean(this.db.prepare('SELECT 1 FROM secrets LIMIT 1').get());
    const current = this.current();
    let unlocked = false;
    if (current) {
      try {
        await this.verify(current.passphrase);
        unlocked = true;
      } catch (err) {
        // OUTPOST_PASSPHRASE or --passphrase-file was given and is wrong: say so rather than look locked.
        if (current.source === 'environment') throw err;
        unlocked = false;
      }
    }
    return {
      initialized: initialized || unlocked,
      unlocked,
      source: unlocked && current ? current.source : null,
      keychainAvailable: this.keychainAvailable(),
      remembered: Boolean(this.opts.rememberFile && existsSync(this.opts.rememberFile)),
    };
  }

  /**
   * Unlocks for this session: the passphrase stays in this process's memory only. A wrong one fails with kind
   * `auth` at once; on an empty vault it becomes the vault's passphrase. `remember` keeps a copy encrypted by the
   * OS keychain (never the plain text) so the next start unlocks by itself.
   */
  async unlock(passphrase: string, opts: { remember?: boolean } = {}): Promise<VaultLockState> {
    if (!passphrase) throw new OutpostError('invalid-input', 'the passphrase is empty');
    await this.verify(passphrase);
    this.session = passphrase;
    this.locked = false;
    if (opts.remember) {
      if (!this.keychainAvailable() || !this.opts.rememberFile || !this.opts.protector) {
        throw new OutpostError('unsupported', 'this laptop offers no OS keychain to remember the passphrase in (the vault is unlocked for this session)');
      }
      writeFileSync(this.opts.rememberFile, this.opts.protector.encryptString(passphrase), { mode: 0o600 });
    }
    for (const listener of this.unlockListeners) await listener();
    return this.status();
  }

  /** Forgets the passphrase for the rest of the session; `forget` also drops the keychain copy. */
  lock(opts: { forget?: boolean } = {}): Promise<VaultLockState> {
    this.session = undefined;
    this.verified = undefined;
    this.locked = true;
    forgetDerivedKeys();
    if (opts.forget && this.opts.rememberFile) rmSync(this.opts.rememberFile, { force: true });
    return this.status();
  }

  /** Runs after every successful unlock (e.g. to encrypt a key still kept in plain text). */
  onUnlock(listener: () => void | Promise<void>): () => void {
    this.unlockListeners.add(listener);
    return () => this.unlockListeners.delete(listener);
  }

  async put(name: string, secret: string, now = new Date()): Promise<void> {
    if (name === VERIFIER_NAME) throw new OutpostError('invalid-input', `${name} is reserved`);
    const passphrase = this.atHand();
    // The proof and the new secret's own derivation run side by side on the thread pool; nothing is written unproven.
    const [, sealed] = await Promise.all([this.verify(passphrase), seal(passphrase, name, secret)]);
    this.write(name, sealed, now);
  }

  async get(name: string): Promise<string | undefined> {
    const row = this.row(name);
    if (!row) return undefined;
    const passphrase = this.atHand();
    if (this.verified === passphrase) return unseal(passphrase, name, row);
    // A secret that opens proves the passphrase (AES-GCM authenticates with the key derived from it): one derivation
    // instead of two. One that does not open is checked against the verifier, to tell a wrong passphrase from tampering.
    let secret: string;
    try {
      secret = await unseal(passphrase, name, row);
    } catch (err) {
      await this.verify(passphrase);
      throw err;
    }
    // Proven, unless the vault has no verifier yet (then the next need() adopts the passphrase and writes one).
    if (this.row(VERIFIER_NAME)) this.verified = passphrase;
    return secret;
  }

  has(name: string): boolean {
    return this.row(name) !== undefined;
  }

  remove(name: string): boolean {
    if (name === VERIFIER_NAME) return false;
    return this.db.prepare('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
  }
}
