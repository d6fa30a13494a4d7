import { isIP } from 'node:net';
import type { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo, type Extension as AsnExtension } from '@peculiar/asn1-x509';
import type { Problem, SubjectAltName } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import { asnExtension, buildCertificate, caTemplate, commonNameSubject, parseCsr, subjectAltNameExtension, subjectKeyIdExtension, verifyCsr, type CaTemplate } from './cert-builder';
import { randomSerial, spkiSha256, x509 } from './crypto';
import type { ExtendedUsageName, KeyUsageName, Profile } from './profiles';

/** The CA that signs: its certificate and its (unlocked) key. */
export interface SigningCa {
  certificate: x509.X509Certificate;
  key: CryptoKey;
  signingAlgorithm: Algorithm | EcdsaParams;
}

/** What the laptop decided, from trusted data only (the profile, the inventory, the technician). */
export interface Approved {
  commonName: string;
  sans: SubjectAltName[];
  lifetimeDays?: number;
  /** A short-lived certificate: minutes instead of days. */
  lifetimeMinutes?: number;
}

const EKU_OID: Record<ExtendedUsageName, string> = { serverAuth: x509.ExtendedKeyUsage.serverAuth, clientAuth: x509.ExtendedKeyUsage.clientAuth };
const KU_FLAG: Record<KeyUsageName, number> = {
  digitalSignature: x509.KeyUsageFlags.digitalSignature,
  keyEncipherment: x509.KeyUsageFlags.keyEncipherment,
  keyAgreement: x509.KeyUsageFlags.keyAgreement,
};
const OID = { san: '2.5.29.17', keyUsage: '2.5.29.15', eku: '2.5.29.37', basicConstraints: '2.5.29.19', skid: '2.5.29.14' } as const;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** `10.0.4.17` → ip, `gw-1.local` → dns; anything else is refused with a problem. */
export function parseSan(value: string): SubjectAltName | null {
  const v = value.trim();
  if (isIP(v)) return { type: 'ip', value: v.toLowerCase() };
  if (HOSTNAME.test(v)) return { type: 'dns', value: v.toLowerCase().replace(/\.$/, '') };
  return null;
}

const sanKey = (s: SubjectAltName): string => `${s.type}:${s.value.toLowerCase()}`;

function keyProblem(csr: x509.Pkcs10CertificateRequest): Problem | null {
  const alg = csr.publicKey.algorithm as Algorithm & { namedCurve?: string; modulusLength?: number };
  if (alg.name === 'ECDSA' && (alg.namedCurve === 'P-256' || alg.namedCurve === 'P-384')) return null;
  if ((alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS') && (alg.modulusLength ?? 0) >= 2048) return null;
  if (alg.name === 'Ed25519') return null;
  const what = `${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''}${alg.modulusLength ? ` ${alg.modulusLength}` : ''}`;
  return { stage: 'request', code: 'key-type', message: `the CSR's key (${what}) is not allowed: EC P-256/P-384, RSA ≥ 2048 or Ed25519` };
}

/**
 * smallstep's validation stages as functions returning every problem: the request (signature, key), the policy
 * (what the CSR asks for against the profile and the approved names), then the certificate about to be made
 * (CA validity, names). Nothing from the CSR is copied but its key.
 */
export async function validateRequest(csrPem: string, profile: Profile, approved: Approved, ca: SigningCa, now: Date): Promise<{ csr: x509.Pkcs10CertificateRequest | null; asn: CertificationRequest | null; problems: Problem[] }> {
  const problems: Problem[] = [];
  let csr: x509.Pkcs10CertificateRequest;
  let asn: CertificationRequest;
  try {
    ({ csr, asn } = parseCsr(csrPem));
  } catch (err) {
    return { csr: null, asn: null, problems: [{ stage: 'request', code: 'csr-unparseable', message: `not a PKCS#10 certificate request: ${(err as Error).message}` }] };
  }
  let signatureOk = false;
  try {
    signatureOk = await verifyCsr(csr, asn);
  } catch {
    signatureOk = false;
  }
  if (!signatureOk) problems.push({ stage: 'request', code: 'csr-signature', message: 'the CSR’s self-signature does not verify (corrupted, or made with a different key)' });
  const kp = keyProblem(csr);
  if (kp) problems.push(kp);

  const approvedKeys = new Set(approved.sans.map(sanKey));
  for (const ext of csr.extensions) {
    if (ext.type === OID.san) {
      const names = new x509.SubjectAlternativeNameExtension(ext.rawData).names.items;
      if (!profile.csrSans && names.length) {
        problems.push({ stage: 'policy', code: 'csr-san-not-allowed', message: `profile ${profile.name} takes no names from a CSR; it asked for ${names.map((n) => n.value).join(', ')}` });
        continue;
      }
      for (const n of names) {
        const asked = n.type === 'dns' || n.type === 'ip' ? parseSan(n.value) : null;
        if (!asked) problems.push({ stage: 'policy', code: 'csr-san-type', message: `the CSR asks for a ${n.type} name (${n.value}); only approved DNS names and IP addresses are signed` });
        else if (!approvedKeys.has(sanKey(asked))) problems.push({ stage: 'policy', code: 'csr-san-not-approved', message: `the CSR asks for ${asked.type.toUpperCase()} ${asked.value}, which is not one of the device’s approved names` });
      }
    } else if (ext.type === OID.eku) {
      const allowed = new Set(profile.extendedKeyUsage.map((u) => EKU_OID[u]));
      for (const usage of new x509.ExtendedKeyUsageExtension(ext.rawData).usages) {
        if (!allowed.has(String(usage))) problems.push({ stage: 'policy', code: 'csr-usage', message: `the CSR asks for extended key usage ${ekuName(String(usage))}, which profile ${profile.name} does not allow (${profile.extendedKeyUsage.join(', ')})` });
      }
    } else if (ext.type === OID.keyUsage) {
      const asked = new x509.KeyUsagesExtension(ext.rawData).usages;
      let allowed = 0;
      for (const u of [...profile.keyUsage, 'keyEncipherment' as const]) allowed |= KU_FLAG[u];
      if ((asked & ~allowed) !== 0) problems.push({ stage: 'policy', code: 'csr-usage', message: `the CSR asks for key usages beyond ${profile.keyUsage.join(', ')} (profile ${profile.name})` });
    } else if (ext.type === OID.basicConstraints) {
      if (new x509.BasicConstraintsExtension(ext.rawData).ca) problems.push({ stage: 'policy', code: 'csr-ca', message: 'the CSR asks to be a certificate authority; leaf profiles never sign a CA' });
    } else if (ext.type !== OID.skid) {
      problems.push({ stage: 'policy', code: 'csr-extension', message: `the CSR asks for extension ${ext.type}, which no profile grants` });
    }
  }

  const caStart = ca.certificate.notBefore.getTime();
  const caEnd = ca.certificate.notAfter.getTime();
  if (now.getTime() > caEnd) problems.push({ stage: 'certificate', code: 'ca-expired', message: `the CA ${ca.certificate.subject} expired on ${ca.certificate.notAfter.toISOString()}; renew or import a new one` });
  else if (now.getTime() < caStart) problems.push({ stage: 'certificate', code: 'ca-not-yet-valid', message: `the CA ${ca.certificate.subject} is valid only from ${ca.certificate.notBefore.toISOString()} (check the laptop clock)` });
  if (profile.sans === 'required' && approved.sans.length === 0) problems.push({ stage: 'certificate', code: 'sans-required', message: `profile ${profile.name} needs the device’s names or addresses; none are known` });
  if (profile.sans === 'none' && approved.sans.length > 0) problems.push({ stage: 'certificate', code: 'sans-forbidden', message: `profile ${profile.name} carries no names` });
  if (!approved.commonName.trim() || approved.commonName.length > 64) problems.push({ stage: 'certificate', code: 'subject', message: 'the common name must be 1-64 characters' });
  return { csr, asn, problems };
}

function ekuName(oid: string): string {
  const known = Object.entries(x509.ExtendedKeyUsage).find(([, v]) => v === oid);
  return known ? `${known[0]} (${oid})` : oid;
}

/** The problems as one error: `integrity` for a bad signature, `expired` for a dead CA, else `policy`. */
export function problemsError(problems: Problem[]): OutpostError {
  const kind = problems.some((p) => p.code === 'csr-signature' || p.code === 'csr-unparseable') ? 'integrity' : problems.some((p) => p.code === 'ca-expired' || p.code === 'ca-not-yet-valid') ? 'expired' : 'policy';
  return new OutpostError(kind, `cannot sign: ${problems.map((p) => p.message).join('; ')}`, { problems });
}

/** The CA's own key identifier where it has one (an imported CA may use another method than SHA-1 of the key). */
async function authorityKeyId(caCert: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const skid = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  return skid ? new x509.AuthorityKeyIdentifierExtension(skid.keyId) : x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
}

/**
 * What every certificate of one CA repeats, worked out once per unlocked CA: its subject as the issuer Name (the
 * library re-derives it from the certificate on every read, ~4 ms), the signature algorithm, the authority key identifier.
 */
const perCa = new WeakMap<SigningCa, Promise<CaTemplate>>();
function caParts(ca: SigningCa): Promise<CaTemplate> {
  let parts = perCa.get(ca);
  if (!parts) {
    parts = authorityKeyId(ca.certificate).then((aki) => caTemplate(ca.certificate, ca.key, ca.signingAlgorithm, aki));
    perCa.set(ca, parts);
  }
  return parts;
}

/** A profile's fixed extensions (basic constraints, key usage, extended key usage), encoded once per profile and key kind. */
const perProfile = new WeakMap<Profile, Map<boolean, AsnExtension[]>>();
function profileExtensions(profile: Profile, isRsa: boolean): AsnExtension[] {
  let byKind = perProfile.get(profile);
  if (!byKind) perProfile.set(profile, (byKind = new Map()));
  let exts = byKind.get(isRsa);
  if (!exts) {
    let usages = 0;
    for (const u of profile.keyUsage) usages |= KU_FLAG[u];
    if (isRsa) usages |= x509.KeyUsageFlags.keyEncipherment;
    exts = [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(usages, true), new x509.ExtendedKeyUsageExtension(profile.extendedKeyUsage.map((u) => EKU_OID[u]))].map(asnExtension);
    byKind.set(isRsa, exts);
  }
  return exts;
}

/** What a signature produced: the certificate (its fields read lazily), its PEM, and the SHA-256 of its key. */
export interface Signed {
  certificate: x509.X509Certificate;
  pem: string;
  spki: string;
  notes: string[];
}

/** Validates, then signs with a fresh 20-byte random serial; throws with every problem found. */
export async function signRequest(csrPem: string, profile: Profile, approved: Approved, ca: SigningCa, now = new Date()): Promise<Signed> {
  const { csr, asn, problems } = await validateRequest(csrPem, profile, approved, ca, now);
  if (problems.length || !csr || !asn) throw problemsError(problems);
  return signSpki(asn.certificationRequestInfo.subjectPKInfo, csr.publicKey, profile, approved, ca, now);
}

export async function signPublicKey(publicKey: x509.PublicKey, profile: Profile, approved: Approved, ca: SigningCa, now = new Date()): Promise<Signed> {
  return signSpki(AsnConvert.parse(publicKey.rawData, SubjectPublicKeyInfo), publicKey, profile, approved, ca, now);
}

async function signSpki(spki: SubjectPublicKeyInfo, publicKey: x509.PublicKey, profile: Profile, approved: Approved, ca: SigningCa, now: Date): Promise<Signed> {
  const notes: string[] = [];
  const template = await caParts(ca);
  const notBefore = new Date(now.getTime() - profile.backdateMinutes * 60_000);
  let notAfter = new Date(now.getTime() + (approved.lifetimeMinutes !== undefined ? approved.lifetimeMinutes * 60_000 : (approved.lifetimeDays ?? profile.lifetimeDays) * 86_400_000));
  if (notAfter > ca.certificate.notAfter) {
    notAfter = ca.certificate.notAfter;
    notes.push(`validity cut to the CA’s own end, ${notAfter.toISOString()}`);
  }
  const isRsa = /^RSA/.test((publicKey.algorithm as Algorithm).name);
  const extensions = [...profileExtensions(profile, isRsa), subjectKeyIdExtension(spki), template.aki];
  if (approved.sans.length) extensions.push(subjectAltNameExtension(approved.sans));
  const { der, asn } = await buildCertificate(template, { serialHex: randomSerial(), subject: commonNameSubject(approved.commonName), notBefore, notAfter, spki, extensions });
  // The certificate object wraps the schema object just built (its fields are read lazily, nothing is parsed back);
  // the PEM is made from the one encoding that was signed.
  return { certificate: new x509.X509Certificate(asn), pem: x509.PemConverter.encode(der, 'CERTIFICATE'), spki: spkiSha256(publicKey.rawData), notes };
}
