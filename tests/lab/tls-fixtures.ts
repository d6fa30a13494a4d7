// Certificates for lab tests, made offline with @peculiar/x509 (no openssl CLI): a CA, and leaf certificates it
// signs for servers (with IP/DNS names) and clients. ECDSA P-256 keys, PEM files in a directory of the caller's.
import 'reflect-metadata'; // @peculiar/x509 resolves its parts through tsyringe, which needs it loaded first
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface Issued {
  certFile: string;
  keyFile: string;
}

export interface TestCa extends Issued {
  issue(name: string, opts: { server?: { ips?: string[]; dns?: string[] }; client?: boolean; notBefore?: Date; notAfter?: Date }): Promise<Issued>;
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0');

export async function createTestCa(dir: string, name: string): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, ca.toString('pem') + '\n');
  writeFileSync(keyFile, await pemKey(keys.privateKey), { mode: 0o600 });
  return {
    certFile,
    keyFile,
    async issue(leafName, opts) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([...(opts.server ? [x509.ExtendedKeyUsage.serverAuth] : []), ...(opts.client ? [x509.ExtendedKeyUsage.clientAuth] : [])]),
      ];
      if (opts.server) {
        extensions.push(new x509.SubjectAlternativeNameExtension([...(opts.server.ips ?? []).map((value) => ({ type: 'ip' as const, value })), ...(opts.server.dns ?? []).map((value) => ({ type: 'dns' as const, value }))]));
      }
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: nextSerial(),
        subject: `CN=${leafName}`,
        issuer: ca.subject,
        notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
        notAfter: opts.notAfter ?? new Date(Date.now() + 7 * DAY),
        signingAlgorithm: ALG,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions,
      });
      const leafCert = join(dir, `${leafName}.crt`);
      const leafKey = join(dir, `${leafName}.key`);
      writeFileSync(leafCert, leaf.toString('pem') + '\n');
      writeFileSync(leafKey, await pemKey(leafKeys.privateKey), { mode: 0o644 });
      return { certFile: leafCert, keyFile: leafKey };
    },
  };
}
