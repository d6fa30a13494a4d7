import { createPublicKey, randomUUID, createPrivateKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber } from '@peculiar/asn1-x509';
import type { KeyAlgorithm } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { Vault } from '../secrets/vault';
import { ALGORITHMS, generateKeyPair, importSigningKey, parseCertificates, pem, privateKeyPem, randomSerial, x509 } from './crypto';
import type { PkiRepo, StoredCa } from './pki-repo';
import type { SigningCa } from './signer';

const DAY = 86_400_000;
const CRL_REASONS = { unspecified: 0, keyCompromise: 1, superseded: 4, cessationOfOperation: 5 } as const;
export type RevokeReason = keyof typeof CRL_REASONS;
/** A CRL must outlast the gap between two site visits: the next visit pushes a fresh one. */
export const CRL_NEXT_UPDATE_DAYS = 180;

/** The secret's name in the vault; bound into the AES-GCM tag, so a sealed key cannot be swapped between CAs. */
const secretName = (id: string) => `pki/ca/${id}/key`;

/**
 * Site CAs: created here (a root for this site, 10 years by default) or imported (an intermediate issued by the
 * company's root, chain kept). The private key goes straight into the vault, sealed with the CA passphrase; it is
 * never written anywhere unencrypted.
 */
export class SiteCas {
  constructor(
    private readonly repo: PkiRepo,
    private readonly vault: (passphrase?: string) => Vault,
  ) {}

  async create(args: { name: string; algorithm: KeyAlgorithm; validityDays: number; passphrase?: string }, now = new Date()): Promise<StoredCa> {
    const vault = this.vault(args.passphrase);
    await vault.assertReady();
    if (this.repo.findCa(args.name)) throw new OutpostError('conflict', `a CA named ${JSON.stringify(args.name)} already exists`);
    const keys = await generateKeyPair(args.algorithm);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `CN=${args.name.replace(/([,+"\\<>;=])/g, '\\$1')},O=Outpost site CA`,
      notBefore: new Date(now.getTime() - 5 * 60_000),
      notAfter: new Date(now.getTime() + args.validityDays * DAY),
      signingAlgorithm: ALGORITHMS[args.algorithm].sign,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const id = randomUUID();
    await vault.put(secretName(id), await privateKeyPem(keys.privateKey), now);
    return this.store(id, args.name, args.algorithm, false, certificate, '', now);
  }

  /** An intermediate from the company's root: PEM certificate (+ chain) and key, or a PKCS#12 bundle. */
  async importPem(args: { name: string; certificatePem: string; keyPem: string; keyPassphrase?: string; passphrase?: string }, now = new Date()): Promise<StoredCa> {
    const vault = this.vault(args.passphrase);
    await vault.assertReady();
    const [certificate, ...chain] = parseCertificates(args.certificatePem);
    if (!certificate) throw new OutpostError('invalid-input', 'no certificate found in the PEM bundle');
    const basic = certificate.getExtension(x509.BasicConstraintsExtension);
    if (!basic?.ca) throw new OutpostError('invalid-input', `${certificate.subject} is not a CA certificate (basicConstraints CA:TRUE missing)`);
    const usage = certificate.getExtension(x509.KeyUsagesExtension);
    if (usage && (usage.usages & x509.KeyUsageFlags.keyCertSign) === 0) throw new OutpostError('invalid-input', `${certificate.subject} may not sign certificates (keyUsage lacks keyCertSign)`);
    const { algorithm, pkcs8Pem } = await importSigningKey(args.keyPem, args.keyPassphrase);
    const keySpki = createPublicKey(createPrivateKey(pkcs8Pem)).export({ type: 'spki', format: 'der' });
    if (!Buffer.from(certificate.publicKey.rawData).equals(keySpki)) throw new OutpostError('invalid-input', `the key does not belong to ${certificate.subject}`);
    for (let i = 0; i < chain.length; i++) {
      const child = i === 0 ? certificate : (chain[i - 1] as x509.X509Certificate);
      const parent = chain[i] as x509.X509Certificate;
      if (!(await child.verify({ publicKey: parent.publicKey, signatureOnly: true }))) throw new OutpostError('invalid-input', `the chain is out of order: ${parent.subject} did not sign ${child.subject}`);
    }
    if (certificate.notAfter < now) throw new OutpostError('expired', `${certificate.subject} expired on ${certificate.notAfter.toISOString()}`);
    const id = randomUUID();
    await vault.put(secretName(id), pkcs8Pem, now);
    return this.store(id, args.name, algorithm, true, certificate, chain.map((c) => c.toString('pem')).join('\n'), now);
  }

  private store(id: string, name: string, algorithm: KeyAlgorithm, imported: boolean, certificate: x509.X509Certificate, chainPem: string, now: Date): StoredCa {
    this.repo.insertCa({
      id,
      name,
      subject: certificate.subject,
      algorithm,
      imported,
      certificatePem: `${certificate.toString('pem')}\n`,
      chainPem: chainPem ? `${chainPem.trim()}\n` : '',
      keySecret: secretName(id),
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      createdAt: now.toISOString(),
    });
    return this.repo.ca(id);
  }

  /** Opens the CA key for one operation; a wrong passphrase is kind `auth` and nothing is signed. */
  async unlock(ca: StoredCa, passphrase?: string): Promise<SigningCa> {
    const vault = this.vault(passphrase);
    let keyPem: string | undefined;
    try {
      keyPem = await vault.get(ca.keySecret);
      if (keyPem === undefined) await vault.assertReady();
    } catch (err) {
      if (err instanceof OutpostError && err.kind === 'invalid-input') throw new OutpostError('auth', `the key of CA ${ca.name} is locked: give its passphrase (--passphrase-file F or OUTPOST_PASSPHRASE)`);
      if (err instanceof OutpostError && err.kind === 'auth') throw new OutpostError('auth', `wrong passphrase for CA ${ca.name} (the vault's passphrase)`);
      throw err;
    }
    if (!keyPem) throw new OutpostError('not-found', `the key of CA ${ca.name} is missing from the vault`);
    const { key, algorithm } = await importSigningKey(keyPem);
    return { certificate: new x509.X509Certificate(ca.certificatePem), key, signingAlgorithm: ALGORITHMS[algorithm].sign };
  }

  /** A CRL of every revoked, unexpired certificate (reasons kept), numbered, valid until the next visit. */
  async crl(ca: StoredCa, signing: SigningCa, now = new Date()): Promise<string> {
    const revoked = this.repo.revokedUnexpired(ca.id, now);
    const number = this.repo.nextCrlNumber(ca.id);
    const crl = await x509.X509CrlGenerator.create({
      issuer: signing.certificate.subjectName,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + CRL_NEXT_UPDATE_DAYS * DAY),
      signingAlgorithm: signing.signingAlgorithm,
      signingKey: signing.key,
      extensions: [crlNumberExtension(number), await x509.AuthorityKeyIdentifierExtension.create(signing.certificate.publicKey)],
      entries: revoked.map((c) => ({ serialNumber: c.serial, revocationDate: new Date(c.revokedAt ?? now), reason: CRL_REASONS[(c.revokeReason ?? 'unspecified') as RevokeReason] ?? 0 })),
    });
    // openssl and mosquitto read the label RFC 7468 gives a CRL, "X509 CRL" (the library writes "CRL").
    return pem('X509 CRL', crl.rawData);
  }
}

/**
 * True when a CRL (PEM, as found on a device) is this CA's, verifies, lists exactly the serials revoked now, and
 * has more than `marginDays` before its nextUpdate: reinstalling then keeps it and restarts nothing.
 */
export async function crlIsCurrent(crlPem: string | null, ca: StoredCa, revokedSerials: string[], now = new Date(), marginDays = 30): Promise<boolean> {
  if (!crlPem || !crlPem.includes('BEGIN X509 CRL')) return false;
  try {
    const crl = new x509.X509Crl(crlPem.replace(/X509 CRL/g, 'CRL'));
    const caCert = new x509.X509Certificate(ca.certificatePem);
    if (!(await crl.verify({ publicKey: caCert.publicKey }))) return false;
    if (!crl.nextUpdate || crl.nextUpdate.getTime() < now.getTime() + marginDays * DAY) return false;
    const listed = new Set(crl.entries.map((e) => e.serialNumber.toLowerCase()));
    const want = new Set(revokedSerials.map((s) => s.toLowerCase()));
    return listed.size === want.size && [...want].every((s) => listed.has(s));
  } catch {
    return false;
  }
}

/** cRLNumber (2.5.29.20), encoded by the ASN.1 schema library. */
function crlNumberExtension(n: number): x509.Extension {
  return new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(n)));
}
