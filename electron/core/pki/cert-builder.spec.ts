import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../../../shared/contract/pki';
import { Vault } from '../secrets/vault';
import { openDatabase } from '../store/database';
import { ALGORITHMS, generateKeyPair, x509 } from './crypto';
import { PkiRepo } from './pki-repo';
import { profile } from './profiles';
import { parseSan, signRequest } from './signer';
import { SiteCas } from './site-ca';

const dir = mkdtempSync(join(tmpdir(), 'outpost-cert-builder-spec-'));
let n = 0;

async function unlockedCa(algorithm: KeyAlgorithm) {
  const db = openDatabase(join(dir, `db-${n++}.sqlite`));
  const cas = new SiteCas(new PkiRepo(db), (p) => new Vault(db, () => p));
  const ca = await cas.create({ name: `site-${algorithm}-${n}`, algorithm, validityDays: 3650, passphrase: 'pw' });
  return { ca, signing: await cas.unlock(ca, 'pw') };
}

async function csrPem(algorithm: KeyAlgorithm = 'ec-p256'): Promise<string> {
  const keys = await generateKeyPair(algorithm);
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=device', keys, signingAlgorithm: ALGORITHMS[algorithm].sign })).toString('pem');
}

/**
 * The signer builds the TBS itself from the library's schema classes; the library's own generator, given the same
 * serial, dates, names, key and extensions, must produce the very same TBS bytes.
 */
describe('certificate builder: the same certificate the X.509 library makes', () => {
  const cases: Array<[KeyAlgorithm, KeyAlgorithm, string, string[]]> = [
    ['ec-p256', 'ec-p256', 'gw-1', ['10.0.4.17', 'gw-1.local']],
    ['rsa-3072', 'rsa-3072', 'gw, "north" <2>', ['fe80::1', 'gw.example']],
    ['ed25519', 'ec-p256', 'Gateway Überlingen', ['2001:db8::17']],
    ['ec-p256', 'ed25519', 'x', []],
  ];
  it.each(cases)('a %s CA over a %s key, CN %j, SANs %j', async (caAlg, keyAlg, cn, sans) => {
    const { ca, signing } = await unlockedCa(caAlg);
    const prof = profile(sans.length ? 'docker-server' : 'docker-client');
    const approved = { commonName: cn, sans: sans.map((s) => parseSan(s)!) };
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
    const signed = await signRequest(await csrPem(keyAlg), prof, approved, signing, now);

    const parsed = new x509.X509Certificate(signed.pem);
    // The object handed back (built, not parsed) encodes to the same bytes as the PEM.
    expect(Buffer.from(signed.certificate.rawData).equals(Buffer.from(parsed.rawData))).toBe(true);
    expect(signed.certificate.serialNumber).toBe(parsed.serialNumber);
    expect(parsed.subject).toBe(signed.certificate.subject);
    expect(await parsed.verify({ publicKey: signing.certificate.publicKey, signatureOnly: true })).toBe(true);

    // The extensions as the library's classes make them (the signer's previous code), in the signer's order.
    const isRsa = keyAlg === 'rsa-3072';
    const usages = x509.KeyUsageFlags.digitalSignature | (isRsa ? x509.KeyUsageFlags.keyEncipherment : 0);
    const caSkid = signing.certificate.getExtension(x509.SubjectKeyIdentifierExtension)!;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension([sans.length ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(parsed.publicKey),
      new x509.AuthorityKeyIdentifierExtension(caSkid.keyId),
    ];
    if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(approved.sans.map((s) => ({ type: s.type, value: s.value }))));
    const reference = await x509.X509CertificateGenerator.create({
      serialNumber: parsed.serialNumber,
      subject: `CN=${cn.replace(/([,+"\\<>;=])/g, '\\$1')}`,
      issuer: signing.certificate.subjectName,
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      signingAlgorithm: signing.signingAlgorithm,
      publicKey: parsed.publicKey,
      signingKey: signing.key,
      extensions,
    });
    const tbs = (c: x509.X509Certificate) => Buffer.from(AsnConvert.parse(c.rawData, Certificate).tbsCertificateRaw as ArrayBuffer).toString('hex');
    expect(tbs(parsed)).toBe(tbs(reference));
    expect(parsed.notBefore.getTime()).toBe(now.getTime() - 5 * 60_000);
    expect(parsed.subject).toBe(reference.subject);

    const caFile = join(dir, `ca-${n}.pem`);
    const certFile = join(dir, `cert-${n}.pem`);
    writeFileSync(caFile, ca.certificatePem);
    writeFileSync(certFile, signed.pem);
    const out = execFileSync('openssl', ['verify', '-CAfile', caFile, '-attime', String(Math.floor(now.getTime() / 1000)), certFile], { encoding: 'utf8' });
    expect(out.trim()).toBe(`${certFile}: OK`);
  });

  it('reads a CSR in PEM with CRLF line ends and the NEW CERTIFICATE REQUEST label, and refuses garbage as csr-unparseable', async () => {
    const { signing } = await unlockedCa('ec-p256');
    const pem = (await csrPem()).replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST').replace(/\n/g, '\r\n');
    const approved = { commonName: 'gw', sans: [parseSan('10.0.0.1')!] };
    const { certificate } = await signRequest(pem, profile('docker-server'), approved, signing);
    expect(certificate.subject).toBe('CN=gw');
    await expect(signRequest('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', profile('docker-server'), approved, signing)).rejects.toMatchObject({ kind: 'integrity', details: { problems: [{ code: 'csr-unparseable' }] } });
    await expect(signRequest('not a csr', profile('docker-server'), approved, signing)).rejects.toMatchObject({ kind: 'integrity' });
  });

  it('refuses a CSR whose body names one key and whose signature is another key’s', async () => {
    const { signing } = await unlockedCa('ec-p256');
    const approved = { commonName: 'gw', sans: [parseSan('10.0.0.1')!] };
    // Another key's signature over this CSR's body: the body says key A, the signature is B's.
    const a = await generateKeyPair('ec-p256');
    const b = await generateKeyPair('ec-p256');
    const reqA = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=a', keys: a, signingAlgorithm: ALGORITHMS['ec-p256'].sign });
    const reqB = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=a', keys: { publicKey: a.publicKey, privateKey: b.privateKey }, signingAlgorithm: ALGORITHMS['ec-p256'].sign });
    expect(await reqA.verify()).toBe(true);
    await expect(signRequest(reqB.toString('pem'), profile('docker-server'), approved, signing)).rejects.toMatchObject({ kind: 'integrity', details: { problems: [{ code: 'csr-signature' }] } });
  });

  it('checks a P-384 CSR through its key’s coordinates, and refuses one whose point is off the curve (kind integrity)', async () => {
    const { signing } = await unlockedCa('ec-p256');
    const approved = { commonName: 'gw', sans: [parseSan('10.0.0.1')!] };
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=p384', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams });
    const { certificate } = await signRequest(req.toString('pem'), profile('docker-server'), approved, signing);
    expect((certificate.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe('P-384');

    const der = Buffer.from((await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=gw', keys: await generateKeyPair('ec-p256'), signingAlgorithm: ALGORITHMS['ec-p256'].sign })).rawData);
    const at = der.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04])) + 4; // the uncompressed point's x
    der[at + 5] ^= 0x01;
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signRequest(pem, profile('docker-server'), approved, signing)).rejects.toMatchObject({ kind: 'integrity', details: { problems: [{ code: 'csr-signature' }] } });
  });
});
