import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsCredentials } from './laptop-credentials';

/**
 * The laptop's client certificate as files for tools that read paths (the buffers' upstream forwarder's
 * tls.caFile/certFile/keyFile): the key is written 0600 in a 0700 directory the technician chose.
 */
export function writeLaptopClientFiles(dir: string, creds: TlsCredentials): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files: Array<[string, string, number]> = [
    ['ca.pem', creds.ca, 0o644],
    ['cert.pem', creds.cert, 0o644],
    ['key.pem', creds.key, 0o600],
  ];
  return files.map(([name, text, mode]) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode });
    chmodSync(path, mode);
    return path;
  });
}
