import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export interface LaptopKey {
  privateKeyPath: string;
  privateKey: string;
  publicKey: string;
}

/**
 * The laptop's own SSH identity (ed25519), generated once under the data dir with mode 0600.
 * Its public half is what `outpost` installs in a device's authorized_keys.
 */
export function ensureLaptopKey(dataDir: string, comment = 'outpost-laptop'): LaptopKey {
  const dir = join(dataDir, 'keys');
  const privateKeyPath = join(dir, 'id_ed25519');
  const publicKeyPath = `${privateKeyPath}.pub`;
  if (!existsSync(privateKeyPath)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
    writeFileSync(publicKeyPath, `${pair.public}\n`, { mode: 0o644 });
  }
  chmodSync(privateKeyPath, 0o600);
  return {
    privateKeyPath,
    privateKey: readFileSync(privateKeyPath, 'utf8'),
    publicKey: readFileSync(publicKeyPath, 'utf8').trim(),
  };
}
