import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesTarget, type KeyAlgorithm } from '../../../shared/contract/pki';
import { Vault } from '../secrets/vault';
import { openDatabase } from '../store/database';
import { ALGORITHMS, generateKeyPair, x509 } from './crypto';
import { PkiRepo } from './pki-repo';
import { needsRenewal, profile } from './profiles';
import { parseSan, signRequest, validateRequest } from './signer';
import { SiteCas } from './site-ca';

const dir = mkdtempSync(join(tmpdir(), 'outpost-pki-spec-'));
let n = 0;

function setup() {
  const db = openDatabase(join(dir, `db-${n++}.sqlite`));
  const repo = new PkiRepo(db);
  const cas = new SiteCas(repo, (p) => new Vault(db, () => p));
  return { db, repo, cas };
}

async function csr(opts: { algorithm?: KeyAlgorithm; sans?: x509.JsonGeneralNames; eku?: string[]; cn?: string } = {}): Promise<string> {
  const algorithm = opts.algorithm ?? 'ec-p256';
  const keys = await generateKeyPair(algorithm);
  const extensions: x509.Extension[] = [];
  if (opts.sans) extensions.push(new x509.SubjectAlternativeNameExtension(opts.sans));
  if (opts.eku) extensions.push(new x509.ExtendedKeyUsageExtension(opts.eku));
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${opts.cn ?? 'device'}`, keys, signingAlgorithm: ALGORITHMS[algorithm].sign, extensions });
  return req.toString('pem');
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const approved = { commonName: 'gw-1', sans: [parseSan('10.0.4.17')!, parseSan('gw-1.local')!] };

describe('site CA and signing', () => {
  it.each(['ec-p256', 'rsa-3072', 'ed25519'] as const)('a %s CA signs a docker-server certificate that openssl verifies, with the profile’s usages and names', async (algorithm) => {
    const { cas } = setup();
    const ca = await cas.create({ name: `site-${algorithm}`, algorithm, validityDays: 3650, passphrase: 'pw' });
    const signing = await cas.unlock(ca, 'pw');
    const { certificate } = await signRequest(await csr({ sans: [{ type: 'ip', value: '10.0.4.17' }] }), profile('docker-server'), approved, signing);
    expect(certificate.serialNumber).toMatch(/^[0-7][0-9a-f]{39}$/);
    const caFile = join(dir, `ca-${algorithm}.pem`);
    const certFile = join(dir, `cert-${algorithm}.pem`);
    writeFileSync(caFile, ca.certificatePem);
    writeFileSync(certFile, certificate.toString('pem'));
    expect(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile]).trim()).toBe(`${certFile}: OK`);
    const text = openssl(['x509', '-in', certFile, '-noout', '-ext', 'extendedKeyUsage,subjectAltName,basicConstraints']);
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).not.toContain('Client Authentication');
    expect(text).toContain('IP Address:10.0.4.17');
    expect(text).toContain('DNS:gw-1.local');
    expect(text).toContain('CA:FALSE');
  });

  it('docker-client gets clientAuth only and no names; openssl refuses it as a server', async () => {
    const { cas } = setup();
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 365, passphrase: 'pw' });
    const { certificate } = await signRequest(await csr(), profile('docker-client'), { commonName: 'laptop', sans: [] }, await cas.unlock(ca, 'pw'));
    const caFile = join(dir, 'client-ca.pem');
    const certFile = join(dir, 'client.pem');
    writeFileSync(caFile, ca.certificatePem);
    writeFileSync(certFile, certificate.toString('pem'));
    expect(openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', certFile])).toContain('OK');
    expect(() => openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile])).toThrow();
    expect(openssl(['x509', '-in', certFile, '-noout', '-ext', 'extendedKeyUsage'])).toContain('TLS Web Client Authentication');
  });

  it('lists every problem with a CSR that asks for names and usages its profile does not allow', async () => {
    const { cas } = setup();
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 365, passphrase: 'pw' });
    const signing = await cas.unlock(ca, 'pw');
    const server = await validateRequest(
      await csr({ sans: [{ type: 'dns', value: 'evil.example.com' }, { type: 'ip', value: '10.0.4.17' }], eku: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.codeSigning] }),
      profile('docker-server'),
      approved,
      signing,
      new Date(),
    );
    expect(server.problems.map((p) => p.code).sort()).toEqual(['csr-san-not-approved', 'csr-usage']);
    const client = await validateRequest(await csr({ sans: [{ type: 'dns', value: 'laptop' }] }), profile('docker-client'), { commonName: 'laptop', sans: [] }, signing, new Date());
    expect(client.problems.map((p) => p.code)).toEqual(['csr-san-not-allowed']);
    await expect(signRequest(await csr({ eku: [x509.ExtendedKeyUsage.serverAuth] }), profile('mqtt-client'), { commonName: 'svc', sans: [] }, signing)).rejects.toMatchObject({ kind: 'policy' });
  });

  it('refuses a CSR whose signature does not verify (kind integrity)', async () => {
    const { cas } = setup();
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 365, passphrase: 'pw' });
    const good = new x509.Pkcs10CertificateRequest(await csr());
    const der = Buffer.from(good.rawData);
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff; // inside the signature value
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signRequest(tampered, profile('docker-server'), approved, await cas.unlock(ca, 'pw'))).rejects.toMatchObject({ kind: 'integrity' });
  });

  it('a wrong passphrase is kind auth; no passphrase at all says the key is locked', async () => {
    const { cas } = setup();
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 365, passphrase: 'right' });
    await expect(cas.unlock(ca, 'wrong')).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('wrong passphrase') });
    await expect(cas.unlock(ca, undefined)).rejects.toMatchObject({ kind: 'auth', message: expect.stringContaining('locked') });
  });

  it('an expired CA signs nothing (kind expired)', async () => {
    const { cas } = setup();
    const then = new Date(Date.now() - 400 * 86_400_000);
    const ca = await cas.create({ name: 'old', algorithm: 'ec-p256', validityDays: 30, passphrase: 'pw' }, then);
    await expect(signRequest(await csr(), profile('docker-server'), approved, await cas.unlock(ca, 'pw'))).rejects.toMatchObject({ kind: 'expired' });
  });

  it('imports an intermediate (openssl-made, SEC1 key) with its chain, and what it signs verifies against the root', async () => {
    const root = join(dir, 'root');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${root}.key`, '-out', `${root}.pem`, '-subj', '/CN=Company Root', '-days', '3650']);
    const inter = join(dir, 'inter');
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${inter}.key`]);
    openssl(['req', '-new', '-key', `${inter}.key`, '-subj', '/CN=Plant 3 CA', '-out', `${inter}.csr`]);
    writeFileSync(`${inter}.ext`, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    openssl(['x509', '-req', '-in', `${inter}.csr`, '-CA', `${root}.pem`, '-CAkey', `${root}.key`, '-CAcreateserial', '-days', '1000', '-extfile', `${inter}.ext`, '-out', `${inter}.pem`]);
    const { cas } = setup();
    const { readFileSync } = await import('node:fs');
    const ca = await cas.importPem({ name: 'plant-3', certificatePem: readFileSync(`${inter}.pem`, 'utf8') + readFileSync(`${root}.pem`, 'utf8'), keyPem: readFileSync(`${inter}.key`, 'utf8'), passphrase: 'pw' });
    expect(ca.imported).toBe(true);
    expect(ca.chainPem).toContain('BEGIN CERTIFICATE');
    const { certificate } = await signRequest(await csr(), profile('docker-server'), approved, await cas.unlock(ca, 'pw'));
    writeFileSync(join(dir, 'leaf.pem'), certificate.toString('pem'));
    expect(openssl(['verify', '-CAfile', `${root}.pem`, '-untrusted', `${inter}.pem`, join(dir, 'leaf.pem')])).toContain('OK');
    await expect(cas.importPem({ name: 'wrong-key', certificatePem: readFileSync(`${inter}.pem`, 'utf8'), keyPem: readFileSync(`${root}.key`, 'utf8'), passphrase: 'pw' })).rejects.toMatchObject({ kind: 'invalid-input' });
  });

  it('a CRL lists revoked certificates and openssl reads it', async () => {
    const { cas, repo } = setup();
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 365, passphrase: 'pw' });
    const signing = await cas.unlock(ca, 'pw');
    const { certificate, spki } = await signRequest(await csr(), profile('mqtt-client'), { commonName: 'svc', sans: [] }, signing);
    repo.insertCertificate({ serial: certificate.serialNumber, caId: ca.id, profile: 'mqtt-client', profileVersion: 1, deviceId: null, subject: certificate.subject, sans: [], notBefore: certificate.notBefore.toISOString(), notAfter: certificate.notAfter.toISOString(), issuedAt: new Date().toISOString(), spkiSha256: spki, keyOrigin: 'laptop', status: 'valid', revokedAt: null, revokeReason: null, replaces: null, installed: [], pem: certificate.toString('pem') });
    repo.revoke(certificate.serialNumber, 'keyCompromise');
    const crl = await cas.crl(repo.ca(ca.id), signing);
    writeFileSync(join(dir, 'crl.pem'), crl);
    writeFileSync(join(dir, 'crl-ca.pem'), ca.certificatePem);
    const text = openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text', '-CAfile', join(dir, 'crl-ca.pem')]);
    expect(text.toUpperCase()).toContain(certificate.serialNumber.toUpperCase());
    expect(text).toContain('Key Compromise');
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*1/);
  });

  it('a files target recorded under the older path rule still reads (the certificate list stays readable) while a new request with that path is refused', async () => {
    const { cas, repo } = setup();
    const ca = await cas.create({ name: 'site', algorithm: 'ec-p256', validityDays: 365, passphrase: 'pw' });
    const { certificate, spki } = await signRequest(await csr(), profile('mqtt-client'), { commonName: 'svc', sans: [] }, await cas.unlock(ca, 'pw'));
    repo.insertCertificate({ serial: certificate.serialNumber, caId: ca.id, profile: 'mqtt-client', profileVersion: 1, deviceId: null, subject: certificate.subject, sans: [], notBefore: certificate.notBefore.toISOString(), notAfter: certificate.notAfter.toISOString(), issuedAt: new Date().toISOString(), spkiSha256: spki, keyOrigin: 'laptop', status: 'valid', revokedAt: null, revokeReason: null, replaces: null, installed: [], pem: certificate.toString('pem') });
    // Accepted when an earlier version wrote it (its rule was only "absolute"); refused for new requests since.
    const older = { certPath: '/etc/app/../ssl/app.crt', keyPath: '/etc/ssl/private/app.key', owner: 'root:root', keyMode: '0600' };
    expect(FilesTarget.safeParse(older).success).toBe(false);
    repo.recordInstall(certificate.serialNumber, 'files', [older.certPath, older.keyPath], new Date(), { files: older });
    expect(repo.certificate(certificate.serialNumber).installed).toMatchObject([{ target: 'files', files: { certPath: '/etc/app/../ssl/app.crt' } }]);
    expect(repo.certificates({ caId: ca.id })).toHaveLength(1);
  });

  it('needs renewal after two thirds of the lifetime', () => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date('2026-04-01T00:00:00Z');
    expect(needsRenewal({ notBefore, notAfter }, new Date('2026-02-01T00:00:00Z'))).toBe(false);
    expect(needsRenewal({ notBefore, notAfter }, new Date('2026-03-05T00:00:00Z'))).toBe(true);
  });
});
