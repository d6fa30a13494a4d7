import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as Ssh2 from 'ssh2';
import { OutpostError } from '../../../shared/errors';
import { lazyModule } from '../lazy-require';
import type { Vault } from '../secrets/vault';

// Only making or migrating a key needs ssh2: a command that does neither never loads it.
const ssh2 = lazyModule<typeof Ssh2>('ssh2');

/** The vault entry holding the laptop's private key (OpenSSH format, sealed with the vault's passphrase). */
export const LAPTOP_KEY_SECRET = 'laptop-ssh-key:ed25519';

export type LaptopKeyState = 'encrypted' | 'plaintext' | 'none';

/** `~` and `~/…` as a shell would expand them (the UI's placeholder is `~/.ssh/id_ed25519`). */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(home, path.slice(2));
  return path;
}

/**
 * The laptop's own SSH identity (ed25519), root on every device it was installed on. Its private half lives in
 * the vault, encrypted at rest; only the public half (`keys/id_ed25519.pub`) is a plain file. A key from before
 * (`keys/id_ed25519`, unencrypted) keeps working until the vault is next unlocked, which moves it into the vault
 * and deletes the plain file.
 */
export class LaptopKeyStore {
  readonly dir: string;
  readonly legacyPath: string;
  readonly publicKeyPath: string;
  private cached: string | undefined;
  /** A read or a move in progress: concurrent callers share it (one derivation, one move). */
  private reading: Promise<string | undefined> | undefined;
  private migrating: Promise<boolean> | undefined;

  constructor(
    dataDir: string,
    private readonly vault: Vault,
    private readonly comment = 'outpost-laptop',
  ) {
    this.dir = join(dataDir, 'keys');
    this.legacyPath = join(this.dir, 'id_ed25519');
    this.publicKeyPath = `${this.legacyPath}.pub`;
    vault.onUnlock(async () => {
      try {
        await this.migrate();
      } catch {
        // A failed migration leaves the plain key in place and working; the status keeps saying `plaintext`.
      }
    });
  }

  state(): LaptopKeyState {
    if (existsSync(this.legacyPath)) return 'plaintext';
    return this.vault.has(LAPTOP_KEY_SECRET) ? 'encrypted' : 'none';
  }

  /** The public key line (`ssh-ed25519 AAAA… outpost-laptop`), when a key exists. */
  publicKey(): string | undefined {
    try {
      return readFileSync(this.publicKeyPath, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The private key, or undefined while the vault is locked (the agent and `--identity` still work then).
   * Throws only when a passphrase was given and is wrong (kind `auth`).
   */
  privateKey(): Promise<string | undefined> {
    if (this.cached) return Promise.resolve(this.cached);
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<string | undefined> {
    if (existsSync(this.legacyPath)) {
      if (await this.unlocked()) await this.migrate();
      else return readFileSync(this.legacyPath, 'utf8');
      if (this.cached) return this.cached;
    }
    if (!this.vault.has(LAPTOP_KEY_SECRET)) {
      // No key to read; a passphrase given and wrong is still said as such.
      await this.unlocked();
      return undefined;
    }
    // One derivation: reading the key proves the passphrase too (Vault.get). No passphrase at hand: locked.
    try {
      this.cached = await this.vault.get(LAPTOP_KEY_SECRET);
    } catch (err) {
      if (err instanceof OutpostError && err.kind === 'invalid-input') return undefined;
      throw err;
    }
    return this.cached;
  }

  /** Moves a plain key into the vault if the vault is open now (what a status check or an unlock does). */
  async settle(): Promise<void> {
    if (existsSync(this.legacyPath) && (await this.unlocked())) await this.migrate();
  }

  /** No passphrase at hand: locked. A wrong one is an error (kind `auth`), not a silent fallback. */
  private async unlocked(): Promise<boolean> {
    try {
      await this.vault.assertReady();
      return true;
    } catch (err) {
      if (err instanceof OutpostError && err.kind === 'auth') throw err;
      return false;
    }
  }

  /** The key pair, made now if there is none yet (made encrypted, so it needs the vault unlocked). */
  async ensure(): Promise<{ publicKey: string; privateKey: string }> {
    const existing = await this.privateKey();
    const publicKey = this.publicKey();
    if (existing && publicKey) return { publicKey, privateKey: existing };
    if (this.state() !== 'none' || publicKey) {
      throw new OutpostError('invalid-input', 'the laptop key is encrypted in the vault: unlock the vault in the app, or set OUTPOST_PASSPHRASE or pass --passphrase-file');
    }
    await this.vault.assertReady();
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const pair = ssh2().utils.generateKeyPairSync('ed25519', { comment: this.comment });
    try {
      // 'wx': of two processes making a key at once, one wins and the other uses the winner's.
      writeFileSync(this.publicKeyPath, `${pair.public}\n`, { mode: 0o644, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const theirs = await this.privateKey();
      const theirPublic = this.publicKey();
      if (!theirs || !theirPublic) throw new OutpostError('conflict', 'another Outpost process is creating the laptop key; try again');
      return { publicKey: theirPublic, privateKey: theirs };
    }
    await this.vault.put(LAPTOP_KEY_SECRET, pair.private);
    this.cached = pair.private;
    return { publicKey: pair.public.trim(), privateKey: pair.private };
  }

  /** Moves a plain key file into the vault (the same key: devices keep accepting it), then deletes the file. */
  migrate(): Promise<boolean> {
    this.migrating ??= this.move().finally(() => (this.migrating = undefined));
    return this.migrating;
  }

  private async move(): Promise<boolean> {
    if (!existsSync(this.legacyPath)) return false;
    const plain = readFileSync(this.legacyPath, 'utf8');
    const parsed = ssh2().utils.parseKey(plain);
    if (parsed instanceof Error) throw new OutpostError('integrity', `the laptop key ${this.legacyPath} cannot be read: ${parsed.message}`);
    await this.vault.put(LAPTOP_KEY_SECRET, plain);
    if ((await this.vault.get(LAPTOP_KEY_SECRET)) !== plain) throw new OutpostError('integrity', 'the laptop key did not read back from the vault; the plain file is kept');
    if (!this.publicKey()) {
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      writeFileSync(this.publicKeyPath, `${key.type} ${key.getPublicSSH().toString('base64')} ${this.comment}\n`, { mode: 0o644 });
    }
    // Overwrite before unlinking, so the plain key is not left in the freed blocks of a simple file system.
    writeFileSync(this.legacyPath, Buffer.alloc(plain.length));
    rmSync(this.legacyPath, { force: true });
    this.cached = plain;
    return true;
  }
}
