import { request } from 'node:https';
import { hostname } from 'node:os';
import type { CertificateRecord } from '../../../shared/contract/pki';
import type { Vault } from '../secrets/vault';
import { generateKeyPair, privateKeyPem, subtle, x509 } from './crypto';
import type { PkiRepo, StoredCa } from './pki-repo';
import { profile } from './profiles';
import { certificateRecord } from './record';
import { signPublicKey, type SigningCa } from './signer';
import { currentLaptopClient, laptopClientKeySecret, type LaptopProfile, type TlsCredentials } from './laptop-credentials';

export const laptopCommonName = (): string => `outpost-laptop-${hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40)}`;

/**
 * The laptop's own client certificate (docker-client for engines, mqtt-client for brokers and the upstream link):
 * its key is made on the laptop and sealed in the vault. Issued on first need (the first Docker TLS or MQTT install),
 * renewed when under a day is left.
 */
export async function ensureLaptopClient(repo: PkiRepo, ca: StoredCa, signing: SigningCa, vault: Vault, now = new Date(), profileName: LaptopProfile = 'docker-client'): Promise<CertificateRecord> {
  const current = currentLaptopClient(repo, ca.id, now, profileName);
  if (current) return current;
  const keys = await generateKeyPair('ec-p256');
  const publicKey = new x509.PublicKey(await subtle.exportKey('spki', keys.publicKey));
  const prof = profile(profileName);
  const { certificate, spki, pem } = await signPublicKey(publicKey, prof, { commonName: laptopCommonName(), sans: [] }, signing, now);
  await vault.put(laptopClientKeySecret(certificate.serialNumber), await privateKeyPem(keys.privateKey), now);
  repo.insertCertificate(certificateRecord(certificate, { caId: ca.id, profile: prof, spki, deviceId: null, sans: [], keyOrigin: 'laptop', installed: [{ target: 'laptop', paths: ['vault'] }], now, pem }));
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

/**
 * An MQTT CONNECT over mTLS (MQTT.js): true only if the broker presents a certificate from the site CA (names
 * checked) and answers CONNACK 0 to our client certificate.
 */
export async function mqttPing(host: string, port: number, creds: TlsCredentials, timeoutMs = 4000): Promise<boolean> {
  const { connect } = await import('mqtt');
  return new Promise((resolve) => {
    const client = connect({ host, port, protocol: 'mqtts', ca: creds.ca, cert: creds.cert, key: creds.key, rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: timeoutMs, clientId: `outpost-verify-${Math.random().toString(16).slice(2, 10)}` });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      client.end(true);
      resolve(ok);
    };
    client.once('connect', () => finish(true));
    client.once('error', () => finish(false));
    client.once('close', () => finish(false));
    setTimeout(() => finish(false), timeoutMs + 500).unref();
  });
}
