import 'reflect-metadata'; // @peculiar/x509 resolves its parts through tsyringe, which needs it loaded first
import { createHash, createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyAlgorithm } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
export { x509 };

export const subtle = webcrypto.subtle as unknown as SubtleCrypto;

/** Key generation and signing parameters for each algorithm a site CA (or a laptop-made key) may use. */
export const ALGORITHMS: Record<KeyAlgorithm, { generate: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm; sign: Algorithm | EcdsaParams }> = {
  'ec-p256': { generate: { name: 'ECDSA', namedCurve: 'P-256' } as EcKeyGenParams, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams },
  'rsa-3072': {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as RsaHashedKeyGenParams,
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
  },
  ed25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
};

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(ALGORITHMS[algorithm].generate, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export function pem(label: string, der: ArrayBuffer | Buffer): string {
  const b64 = Buffer.from(der as ArrayBuffer).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await subtle.exportKey('pkcs8', key));
}

/** Which of our algorithms a Node key object is; anything else is refused for a CA key. */
export function algorithmOf(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec-p256';
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'rsa-3072';
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  const details = key.asymmetricKeyDetails ? ` ${JSON.stringify(key.asymmetricKeyDetails)}` : '';
  throw new OutpostError('unsupported', `a CA key of type ${key.asymmetricKeyType ?? 'unknown'}${details} is not supported (EC P-256, RSA ≥ 2048 or Ed25519)`);
}

/** A signing CryptoKey from any PEM private key openssl writes (PKCS#8, SEC1 "EC PRIVATE KEY", PKCS#1, encrypted). */
export async function importSigningKey(keyPem: string, passphrase?: string): Promise<{ key: CryptoKey; algorithm: KeyAlgorithm; pkcs8Pem: string }> {
  let object: KeyObject;
  try {
    object = createPrivateKey({ key: keyPem, format: 'pem', passphrase });
  } catch (err) {
    const message = (err as Error).message;
    if (/passphrase|bad decrypt/i.test(message)) throw new OutpostError('auth', `cannot open the CA key: ${message}`);
    throw new OutpostError('invalid-input', `not a private key in PEM: ${message}`);
  }
  const algorithm = algorithmOf(object);
  const der = object.export({ type: 'pkcs8', format: 'der' });
  const params = algorithm === 'rsa-3072' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : ALGORITHMS[algorithm].generate;
  const key = await subtle.importKey('pkcs8', der, params as Algorithm, false, ['sign']);
  return { key, algorithm, pkcs8Pem: pem('PRIVATE KEY', der) };
}

/** 20 random bytes, top bit clear so the DER integer stays positive (cfssl, RFC 5280 §4.1.2.2). */
export function randomSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = (bytes[0] as number) & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString('hex');
}

export function spkiSha256(publicKeyDer: ArrayBuffer): string {
  return createHash('sha256').update(Buffer.from(publicKeyDer)).digest('hex');
}

/** Splits a PEM bundle into its certificates (in order); throws on anything that does not parse. */
export function parseCertificates(bundle: string): x509.X509Certificate[] {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b, i) => {
    try {
      return new x509.X509Certificate(b);
    } catch (err) {
      throw new OutpostError('invalid-input', `certificate ${i + 1} of the bundle does not parse: ${(err as Error).message}`);
    }
  });
}

export function describeAlgorithm(publicKey: x509.PublicKey): string {
  const alg = publicKey.algorithm as Algorithm & { namedCurve?: string; modulusLength?: number };
  if (alg.name === 'ECDSA') return `EC ${alg.namedCurve ?? ''}`.trim();
  if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS' || alg.name === 'RSA') return `RSA ${alg.modulusLength ?? ''}`.trim();
  return alg.name;
}
