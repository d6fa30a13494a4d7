import forge from 'node-forge';
import { OutpostError } from '../../../shared/errors';

/**
 * A PKCS#12 bundle (an intermediate CA exported by the company's PKI: key, certificate, chain) read with node-forge,
 * which decrypts both what OpenSSL 3 writes by default (PBES2, AES-256-CBC, HMAC-SHA256 MAC) and the legacy bags
 * Windows and older OpenSSL export (pbeWithSHAAnd3-KeyTripleDES-CBC, RC2-40, SHA-1 MAC) — pkijs reads only PBES2 —
 * and runs on a laptop without an openssl binary. The MAC is checked first: a wrong password is kind `auth`.
 *
 * The CA certificate is the one whose public key matches the private key; the others follow as its chain, ordered
 * child → parent by subject/issuer, then checked by the importer (signatures, CA flags).
 */
export async function pkcs12ToPem(bundle: Buffer, password: string): Promise<{ certificatePem: string; keyPem: string }> {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(bundle.toString('binary')));
  } catch (err) {
    throw new OutpostError('invalid-input', `not a PKCS#12 bundle (DER does not parse: ${(err as Error).message})`);
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, password);
  } catch (err) {
    const message = (err as Error).message;
    if (/mac could not be verified|invalid password|password/i.test(message)) throw new OutpostError('auth', 'wrong password for the PKCS#12 bundle (its integrity check failed)');
    throw new OutpostError('invalid-input', `cannot read the PKCS#12 bundle: ${message}`);
  }
  const bags = (type: string) => p12.getBags({ bagType: type })[type] ?? [];
  const keys = [...bags(forge.pki.oids.pkcs8ShroudedKeyBag as string), ...bags(forge.pki.oids.keyBag as string)].filter((b) => b.key || b.asn1);
  const certs = bags(forge.pki.oids.certBag as string).filter((b) => b.cert || b.asn1);
  if (keys.length !== 1) throw new OutpostError('invalid-input', `the PKCS#12 bundle holds ${keys.length} private keys; a CA bundle holds exactly one`);
  if (certs.length === 0) throw new OutpostError('invalid-input', 'the PKCS#12 bundle holds no certificate');

  const keyBag = keys[0] as forge.pkcs12.Bag;
  // forge turns RSA keys into objects; EC and Ed25519 keys stay as ASN.1 (PrivateKeyInfo), which is all we need.
  const keyInfo = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : (keyBag.asn1 as forge.asn1.Asn1);
  const keyDer = Buffer.from(forge.asn1.toDer(keyInfo).getBytes(), 'binary');
  const certDers = certs.map((b) => Buffer.from(forge.asn1.toDer(b.cert ? forge.pki.certificateToAsn1(b.cert) : (b.asn1 as forge.asn1.Asn1)).getBytes(), 'binary'));

  const { createPrivateKey, createPublicKey, X509Certificate } = await import('node:crypto');
  let keySpki: Buffer;
  try {
    keySpki = createPublicKey(createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
  } catch (err) {
    throw new OutpostError('invalid-input', `the PKCS#12 bundle's key does not parse: ${(err as Error).message}`);
  }
  const parsed = certDers.map((der) => ({ der, x: new X509Certificate(der) }));
  const leafIndex = parsed.findIndex((c) => c.x.publicKey.export({ type: 'spki', format: 'der' }).equals(keySpki));
  if (leafIndex < 0) throw new OutpostError('invalid-input', 'no certificate in the PKCS#12 bundle belongs to its private key');
  const ordered = [parsed[leafIndex] as (typeof parsed)[number]];
  const rest = parsed.filter((_, i) => i !== leafIndex);
  while (rest.length) {
    const last = ordered[ordered.length - 1] as (typeof parsed)[number];
    const i = rest.findIndex((c) => c.x.subject === last.x.issuer && c.x.subject !== last.x.subject);
    if (i < 0) break;
    ordered.push(rest.splice(i, 1)[0] as (typeof parsed)[number]);
  }
  // Certificates that are not in the chain (another branch) are left out rather than mis-ordered.
  const pemOf = (der: Buffer, label: string) => `-----BEGIN ${label}-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
  return { certificatePem: ordered.map((c) => pemOf(c.der, 'CERTIFICATE')).join(''), keyPem: pemOf(keyDer, 'PRIVATE KEY') };
}
