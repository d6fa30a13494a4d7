import { request } from 'node:https';
import { hostname } from 'node:os';
import type { CertificateRecord } from '../../../shared/contract/pki';
import type { Vault } from '../secrets/vault';
import { generateKeyPair, privateKeyPem, subtle, x509 } from './crypto';
import type { PkiRepo, StoredCa } from './pki-repo';
import { profile } from './profiles';
import { signPublicKey, type SigningCa } from './signer';
import { currentLaptopClient, laptopClientKeySecret, type TlsCredentials } from './laptop-credentials';

export const laptopCommonName = (): string => `outpost-laptop-${hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40)}`;

/**
 * The laptop's docker-client certificate: its key is made on the laptop, sealed in the vault, and never leaves it.
 * Issued on first need (the first Docker TLS install), renewed when under a day is left.
 */
export async function ensureLaptopClient(repo: PkiRepo, ca: StoredCa, signing: SigningCa, vault: Vault, now = new Date()): Promise<CertificateRecord> {
  const current = currentLaptopClient(repo, ca.id, now);
  if (current) return current;
  const keys = await generateKeyPair('ec-p256');
  const publicKey = new x509.PublicKey(await subtle.exportKey('spki', keys.publicKey));
  const prof = profile('docker-client');
  const { certificate, spki } = await signPublicKey(publicKey, prof, { commonName: laptopCommonName(), sans: [] }, signing, now);
  vault.put(laptopClientKeySecret(certificate.serialNumber), await privateKeyPem(keys.privateKey), now);
  repo.insertCertificate({
    serial: certificate.serialNumber,
    caId: ca.id,
    profile: 'docker-client',
    profileVersion: prof.version,
    deviceId: null,
    subject: certificate.subject,
    sans: [],
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    issuedAt: now.toISOString(),
    spkiSha256: spki,
    keyOrigin: 'laptop',
    status: 'valid',
    revokedAt: null,
    revokeReason: null,
    replaces: null,
    installed: [{ target: 'laptop', paths: ['vault'], at: now.toISOString() }],
    pem: `${certificate.toString('pem')}\n`,
  });
  return repo.certificate(certificate.serialNumber);
}

/** GET /_ping over mTLS: true only if the engine presents a certificate from the site CA and accepts ours. */
export { laptopClientCredentials } from './laptop-credentials';

export function tlsPing(host: string, port: number, creds: TlsCredentials, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/_ping', method: 'GET', ca: creds.ca, cert: creds.cert, key: creds.key, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
