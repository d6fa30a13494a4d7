import { createHash, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert, AsnSerializer, OctetString } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { x509 } from './crypto';

/**
 * The certificate signer's ASN.1 work, done with the X.509 library's own schema classes (@peculiar/asn1-x509) but
 * without the round trips `X509CertificateGenerator.create` makes on every call: it re-parses each extension and the
 * public key from DER, parses the subject and issuer names from strings, serializes the TBS twice and parses the
 * finished certificate back. Here what a CA repeats (issuer name, signature algorithm, authority key identifier, each
 * profile's fixed extensions) is built once, the CSR is parsed once and its key info reused as parsed, and the TBS is
 * encoded once: the bytes signed are the bytes in the certificate.
 */

const HASH: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** A WebCrypto signature algorithm as node:crypto's digest name: null for Ed25519 (no separate digest), undefined if not handled here. */
function digestOf(alg: Algorithm & { hash?: string | Algorithm }): string | null | undefined {
  if (alg.name === 'Ed25519') return null;
  if (alg.name !== 'ECDSA' && alg.name !== 'RSASSA-PKCS1-v1_5') return undefined;
  const hash = typeof alg.hash === 'string' ? alg.hash : alg.hash?.name;
  return hash ? HASH[hash.toUpperCase()] : undefined;
}

const KEY_TYPE: Record<string, string> = { ECDSA: 'ec', 'RSASSA-PKCS1-v1_5': 'rsa', Ed25519: 'ed25519' };

/** The signing half of a CA, prepared once per unlocked CA. */
export interface CaTemplate {
  issuer: asn1X509.Name;
  signatureAlgorithm: asn1X509.AlgorithmIdentifier;
  aki: asn1X509.Extension;
  /** Signs the TBS bytes; returns the signature as X.509 carries it (DER ECDSA-Sig-Value, PKCS#1 v1.5, raw Ed25519). */
  sign(tbs: Buffer): Promise<Buffer>;
}

/**
 * Schema objects every certificate of a CA or profile repeats, each with a twin that hands asn1-schema's serializer the
 * ASN.1 block built once (asn1-schema serializes any object with `toASN`/`fromASN` through them). The TBS is encoded
 * from the twins; the certificate object handed back holds the schema objects themselves.
 */
const encodedOnce = new WeakMap<object, object>();
function fixed<T extends object>(value: T): T {
  const block = AsnSerializer.toASN(value);
  encodedOnce.set(value, {
    toASN: () => block,
    fromASN: () => {
      throw new Error('an encoded-once ASN.1 part is only serialized');
    },
  });
  return value;
}
const encoded = <T extends object>(value: T): T => (encodedOnce.get(value) as T | undefined) ?? value;

/** An x509 extension as the schema object the TBS holds (parsed and encoded once, reused by every certificate). */
export function asnExtension(ext: x509.Extension): asn1X509.Extension {
  return fixed(AsnConvert.parse(ext.rawData, asn1X509.Extension));
}

/**
 * The template of a CA whose key signs `signingAlgorithm`. ECDSA, RSA PKCS#1 v1.5 and Ed25519 sign through
 * node:crypto on the thread pool; anything else through WebCrypto and the library's signature formatters.
 */
export function caTemplate(certificate: x509.X509Certificate, key: CryptoKey, signingAlgorithm: Algorithm, aki: x509.Extension): CaTemplate {
  const alg = { hash: 'SHA-256', ...signingAlgorithm, ...key.algorithm } as Algorithm & { hash?: string | Algorithm };
  const signatureAlgorithm = fixed(new x509.AlgorithmProvider().toAsnAlgorithm(alg));
  const issuer = fixed(AsnConvert.parse(certificate.rawData, asn1X509.Certificate).tbsCertificate.subject);
  const digest = digestOf(alg);
  let signer: (tbs: Buffer) => Promise<Buffer>;
  if (digest !== undefined && key.type === 'private') {
    // The same key, in memory only: a CryptoKey's KeyObject is what node:crypto signs with (nothing is exported).
    const keyObject = KeyObject.from(key);
    signer = (tbs) => new Promise((resolve, reject) => sign(digest, tbs, keyObject, (err, sig) => (err ? reject(err) : resolve(sig))));
  } else {
    signer = async (tbs) => {
      const raw = await x509.cryptoProvider.get().subtle.sign(alg, key, new Uint8Array(tbs.buffer as ArrayBuffer, tbs.byteOffset, tbs.byteLength));
      for (const formatter of [new x509.AsnEcSignatureFormatter(), new x509.AsnDefaultSignatureFormatter()]) {
        const formatted = formatter.toAsnSignature(alg, raw);
        if (formatted) return Buffer.from(formatted);
      }
      throw new Error(`cannot format a ${alg.name} signature for X.509`);
    };
  }
  return { issuer, signatureAlgorithm, aki: asnExtension(aki), sign: signer };
}

/** A CSR from its PEM (or whatever the library reads), parsed once; `info` is the schema object the signer reuses. */
export function parseCsr(text: string): { csr: x509.Pkcs10CertificateRequest; asn: CertificationRequest } {
  const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(text);
  const der = m ? Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64') : Buffer.from(new x509.Pkcs10CertificateRequest(text).rawData);
  const asn = AsnConvert.parse(der, CertificationRequest);
  return { csr: new x509.Pkcs10CertificateRequest(asn), asn };
}

/**
 * The CSR's self-signature: ECDSA, RSA PKCS#1 v1.5 and Ed25519 checked by node:crypto on the thread pool, where the
 * library's `verify()` would export and re-import the key through WebCrypto (~1 ms); any other algorithm through it.
 */
export async function verifyCsr(csr: x509.Pkcs10CertificateRequest, asn: CertificationRequest): Promise<boolean> {
  const alg = csr.signatureAlgorithm as Algorithm & { hash?: string | Algorithm };
  const digest = digestOf(alg);
  if (digest === undefined) return csr.verify();
  const key = publicKeyObject(csr.publicKey, asn.certificationRequestInfo.subjectPKInfo);
  if (key.asymmetricKeyType !== KEY_TYPE[alg.name]) return false; // an algorithm that does not fit the key
  const tbs = Buffer.from(asn.certificationRequestInfoRaw ?? AsnConvert.serialize(asn.certificationRequestInfo));
  return new Promise((resolve) => verify(digest, tbs, key, Buffer.from(asn.signature), (err, ok) => resolve(!err && ok)));
}

const EC_COORDINATE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48 };

/**
 * The CSR's key as node:crypto's: an uncompressed P-256/P-384 point goes in as its JWK coordinates (OpenSSL 3 decodes
 * a DER SPKI through its generic decoder, about twice the time; the point is still checked to be on the curve);
 * anything else as the DER SPKI.
 */
function publicKeyObject(publicKey: x509.PublicKey, spki: asn1X509.SubjectPublicKeyInfo): KeyObject {
  const alg = publicKey.algorithm as Algorithm & { namedCurve?: string };
  const size = alg.name === 'ECDSA' && alg.namedCurve ? EC_COORDINATE_BYTES[alg.namedCurve] : undefined;
  const point = Buffer.from(spki.subjectPublicKey);
  if (size && point.length === 1 + 2 * size && point[0] === 0x04) {
    const jwk = { kty: 'EC', crv: alg.namedCurve, x: point.subarray(1, 1 + size).toString('base64url'), y: point.subarray(1 + size).toString('base64url') };
    return createPublicKey({ key: jwk, format: 'jwk' });
  }
  return createPublicKey({ key: Buffer.from(publicKey.rawData), format: 'der', type: 'spki' });
}

/** SubjectKeyIdentifier, RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING. */
export function subjectKeyIdExtension(spki: asn1X509.SubjectPublicKeyInfo): asn1X509.Extension {
  const id = createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
  return new asn1X509.Extension({ extnID: asn1X509.id_ce_subjectKeyIdentifier, critical: false, extnValue: new OctetString(AsnConvert.serialize(new asn1X509.SubjectKeyIdentifier(id))) });
}

export function subjectAltNameExtension(names: Array<{ type: 'dns' | 'ip'; value: string }>): asn1X509.Extension {
  const general = names.map((n) => new asn1X509.GeneralName(n.type === 'ip' ? { iPAddress: n.value } : { dNSName: n.value }));
  return new asn1X509.Extension({ extnID: asn1X509.id_ce_subjectAltName, critical: false, extnValue: new OctetString(AsnConvert.serialize(new asn1X509.SubjectAlternativeName(general))) });
}

/** `CN=<commonName>` as the library's name parser encodes it: PrintableString where it can, else UTF8String. */
export function commonNameSubject(commonName: string): asn1X509.Name {
  const value = new asn1X509.AttributeValue(x509.Name.isPrintableString(commonName) ? { printableString: commonName } : { utf8String: commonName });
  return new asn1X509.Name([new asn1X509.RelativeDistinguishedName([new asn1X509.AttributeTypeAndValue({ type: '2.5.4.3', value })])]);
}

/** Builds the TBS, signs it once, and returns the certificate's DER and its schema object. */
export async function buildCertificate(
  ca: CaTemplate,
  fields: { serialHex: string; subject: asn1X509.Name; notBefore: Date; notAfter: Date; spki: asn1X509.SubjectPublicKeyInfo; extensions: asn1X509.Extension[] },
): Promise<{ der: ArrayBuffer; asn: asn1X509.Certificate }> {
  const tbs = {
    version: asn1X509.Version.v3,
    serialNumber: new Uint8Array(Buffer.from(fields.serialHex, 'hex')).buffer,
    signature: ca.signatureAlgorithm,
    issuer: ca.issuer,
    validity: new asn1X509.Validity({ notBefore: fields.notBefore, notAfter: fields.notAfter }),
    subject: fields.subject,
    subjectPublicKeyInfo: fields.spki,
    extensions: new asn1X509.Extensions(fields.extensions),
  };
  // One encoding of the TBS (the fixed parts from their blocks): the block signed is the block placed in the certificate.
  const tbsBlock = AsnSerializer.toASN(
    new asn1X509.TBSCertificate({ ...tbs, signature: encoded(tbs.signature), issuer: encoded(tbs.issuer), extensions: new asn1X509.Extensions(fields.extensions.map(encoded)) }),
  );
  const signature = await ca.sign(Buffer.from(tbsBlock.toBER(false)));
  const asn = new asn1X509.Certificate({ tbsCertificate: new asn1X509.TBSCertificate(tbs), signatureAlgorithm: ca.signatureAlgorithm, signatureValue: new Uint8Array(signature).buffer });
  const signed = { toASN: () => tbsBlock, fromASN: () => signed } as unknown as asn1X509.TBSCertificate;
  const der = AsnConvert.serialize(new asn1X509.Certificate({ tbsCertificate: signed, signatureAlgorithm: encoded(ca.signatureAlgorithm), signatureValue: asn.signatureValue }));
  return { der, asn };
}
